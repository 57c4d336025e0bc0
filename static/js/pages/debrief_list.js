// Debrief lists (homes, the coaching log, a summary): times in the reader's own zone, and on the
// homes a new invitation appears at once (`debrief.invited`, sent to one's personal room).
import { api, announce } from "../lib/api.js";
import { connect } from "../lib/realtime.js";
import { localTime } from "../lib/timecode.js";

function localise(root = document) {
  for (const el of root.querySelectorAll("time[data-local]")) {
    const text = localTime(el.getAttribute("datetime"), { dateOnly: el.dataset.local === "date" });
    if (text) {
      el.title = new Date(el.getAttribute("datetime")).toLocaleString();
      el.textContent = text;
    }
  }
}

function render(template, debrief, meId) {
  const item = template.content.firstElementChild.cloneNode(true);
  const $ = (role) => item.querySelector(`[data-role="${role}"]`);
  item.dataset.debriefId = debrief.id;
  item.dataset.status = debrief.status;
  const title = $("title");
  title.href = debrief.url;
  title.textContent = debrief.video.title;
  const when = $("when");
  if (debrief.status === "live") {
    when.className = "badge badge-live";
    when.textContent = "Live now";
  } else if (debrief.scheduled_for) {
    const time = document.createElement("time");
    time.dateTime = debrief.scheduled_for;
    time.dataset.local = "datetime";
    when.replaceChildren(time);
    localise(when);
  } else {
    when.className = "badge";
    when.textContent = "Ready to join";
  }
  const others = debrief.participants.filter((p) => p.id !== meId).map((p) => p.name);
  $("people").textContent = others.length ? `with ${others.join(", ")}` : "only you so far";
  const join = $("join");
  join.href = debrief.url;
  join.setAttribute("aria-label", `Join the debrief about ${debrief.video.title}`);
  if (debrief.status === "live" || !debrief.scheduled_for) join.classList.add("btn-primary");
  return item;
}

function liveInvitations() {
  const section = document.querySelector('[data-role="debriefs"]');
  const list = section?.querySelector('[data-role="debriefs-open"]');
  const template = section?.querySelector('[data-role="debrief-item-template"]');
  if (!list || !template || !document.body.dataset.userId) return;
  const meId = Number(document.body.dataset.userId);
  const socket = connect();
  socket.on("debrief.invited", async ({ debrief_id: id }) => {
    if (list.querySelector(`[data-debrief-id="${id}"]`)) return;
    try {
      const debrief = await api("GET", `/api/debriefs/${id}`);
      list.prepend(render(template, debrief, meId));
      section.querySelector('[data-role="debriefs-empty"]').hidden = true;
      section.hidden = false;
      announce(`${debrief.created_by.name} invited you to a debrief about ${debrief.video.title}.`);
    } catch {
      // Gone already (or no longer ours): nothing to show.
    }
  });
}

localise();
liveInvitations();

// The debrief's shared notes and action steps: write one (optionally at the lesson's current
// time, which then seeks everyone's player), tick action steps done, delete one's own; every
// change arrives live for the others through `debrief.note` and `debrief.note_deleted`.
import { api, announce } from "./api.js";
import { clock, faceColour, initials } from "./timecode.js";

export function createNotes({ root, debriefId, me, socket, player, onSeek, onCount }) {
  const $ = (role) => root.querySelector(`[data-role="${role}"]`);
  const list = $("dnotes");
  const empty = $("dnotes-empty");
  const form = $("dnote-form");
  const body = $("dnote-body");
  const atBox = $("dnote-at");
  const atLabel = $("dnote-time");
  const error = $("dnote-error");
  const save = $("dnote-save");
  const notes = new Map();

  function kind() {
    return form.querySelector('input[name="dnote-kind"]:checked')?.value ?? "note";
  }

  function render() {
    const sorted = [...notes.values()].sort((x, y) => {
      // Action steps first (open before done), then notes; each in the order written.
      const rank = (n) => (n.kind === "action_step" ? (n.done ? 1 : 0) : 2);
      return rank(x) - rank(y) || x.id - y.id;
    });
    const frag = document.createDocumentFragment();
    let heading = null;
    for (const n of sorted) {
      const group = n.kind === "action_step" ? "Action steps" : "Notes";
      if (group !== heading) {
        heading = group;
        const h = document.createElement("li");
        h.className = "dnote-group";
        h.setAttribute("role", "presentation");
        h.textContent = group;
        frag.append(h);
      }
      frag.append(row(n));
    }
    const focused = document.activeElement?.closest?.(".dnote")?.dataset.id;
    const focusedAction = document.activeElement?.dataset?.action;
    list.replaceChildren(frag);
    if (focused) list.querySelector(`.dnote[data-id="${focused}"] [data-action="${focusedAction}"]`)?.focus();
    empty.hidden = notes.size > 0;
    const steps = [...notes.values()].filter((n) => n.kind === "action_step");
    onCount?.(notes.size, steps.filter((n) => !n.done).length);
  }

  function row(n) {
    const li = document.createElement("li");
    li.className = `dnote dnote-${n.kind === "action_step" ? "step" : "note"}`;
    li.dataset.id = n.id;
    if (n.done) li.classList.add("is-done");
    const head = document.createElement("div");
    head.className = "dnote-head";
    if (n.kind === "action_step") {
      const label = document.createElement("label");
      label.className = "dnote-check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = n.done;
      box.dataset.action = "done";
      box.setAttribute("aria-label", `Done: ${n.body.slice(0, 80)}`);
      label.append(box);
      head.append(label);
    }
    const face = document.createElement("span");
    face.className = "face face-xs";
    face.setAttribute("aria-hidden", "true");
    face.textContent = initials(n.author.name);
    face.style.setProperty("--face", faceColour(n.author.id));
    const who = document.createElement("span");
    who.className = "dnote-author";
    who.textContent = n.author.id === me.id ? `${n.author.name} (you)` : n.author.name;
    head.append(face, who);
    if (n.at_ms != null) {
      const at = document.createElement("button");
      at.type = "button";
      at.className = "note-time";
      at.dataset.action = "seek";
      at.textContent = clock(n.at_ms);
      at.setAttribute("aria-label", `Show everyone the lesson at ${clock(n.at_ms)}`);
      head.append(at);
    }
    if (n.author.id === me.id) {
      const del = document.createElement("button");
      del.type = "button";
      del.className = "note-act note-act-danger dnote-delete";
      del.dataset.action = "delete";
      del.textContent = "Delete";
      del.setAttribute("aria-label", `Delete your ${n.kind === "action_step" ? "action step" : "note"}`);
      head.append(del);
    }
    const text = document.createElement("div");
    text.className = "dnote-body rich";
    text.innerHTML = n.body_html; // rendered and escaped by the server (app/core/richtext.py)
    li.append(head, text);
    return li;
  }

  function upsert(n) {
    if (n.debrief_id !== debriefId) return;
    const fresh = !notes.has(n.id);
    notes.set(n.id, n);
    render();
    if (fresh && n.author.id !== me.id) {
      announce(`${n.author.name} added ${n.kind === "action_step" ? "an action step" : "a note"}.`);
      const el = list.querySelector(`.dnote[data-id="${n.id}"]`);
      el?.classList.add("is-new");
    }
  }

  function remove(id) {
    if (!notes.delete(id)) return;
    render();
  }

  function load(all) {
    notes.clear();
    for (const n of all) notes.set(n.id, n);
    render();
  }

  list.addEventListener("click", async (event) => {
    const li = event.target.closest(".dnote");
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (!li || !action) return;
    const n = notes.get(Number(li.dataset.id));
    if (!n) return;
    try {
      if (action === "seek") {
        onSeek(n.at_ms / 1000);
      } else if (action === "delete") {
        await api("DELETE", `/api/debriefs/${debriefId}/notes/${n.id}`);
        remove(n.id);
        announce("Deleted.");
      }
    } catch (err) {
      announce(err.message);
    }
  });
  list.addEventListener("change", async (event) => {
    const box = event.target.closest('[data-action="done"]');
    if (!box) return;
    const id = Number(box.closest(".dnote").dataset.id);
    try {
      upsert(await api("PATCH", `/api/debriefs/${debriefId}/notes/${id}`, { done: box.checked }));
    } catch (err) {
      box.checked = !box.checked;
      announce(err.message);
    }
  });

  function showTime() {
    atLabel.textContent = clock(player.nowMs());
  }
  player.onTick(showTime);

  async function submit() {
    const text = body.value.trim();
    if (!text) {
      error.textContent = "Write something first.";
      error.hidden = false;
      body.setAttribute("aria-invalid", "true");
      body.focus();
      return;
    }
    const payload = { kind: kind(), body: text };
    if (atBox.checked) payload.at_ms = player.nowMs();
    save.disabled = true;
    error.hidden = true;
    body.removeAttribute("aria-invalid");
    try {
      upsert(await api("POST", `/api/debriefs/${debriefId}/notes`, payload));
      body.value = "";
      announce(payload.kind === "action_step" ? "Action step added." : "Note added.");
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      body.setAttribute("aria-invalid", "true");
    } finally {
      save.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  body.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  form.addEventListener("change", (event) => {
    if (event.target.name !== "dnote-kind") return;
    body.placeholder = kind() === "action_step" ? "An action step, e.g. Try think-pair-share in Monday's warm-up" : "A note for everyone…";
  });

  socket.on("debrief.note", upsert);
  socket.on("debrief.note_deleted", (msg) => {
    if (msg.debrief_id === debriefId) remove(msg.id);
  });

  return { load, upsert, remove, notes };
}

// "Start a debrief" on the lesson page: invite up to a few more people (the lesson's teacher
// always is), optionally schedule it; then go to the room, or stay here if it is for later.
import { api, announce } from "../lib/api.js";
import { faceColour, initials } from "../lib/timecode.js";

const dialog = document.querySelector('[data-role="start-debrief"]');
const opener = document.querySelector('[data-action="start-debrief"]');

function start() {
  const form = dialog.querySelector('[data-role="start-debrief-form"]');
  const inputs = [...form.querySelectorAll('[data-role="participant"]')];
  const when = form.querySelector('[data-role="scheduled-for"]');
  const submit = form.querySelector('[data-role="start-submit"]');
  const general = form.querySelector('[data-role="start-error"]');
  const done = document.querySelector('[data-role="start-done"]');
  const videoId = Number(dialog.dataset.videoId);

  for (const el of dialog.querySelectorAll("[data-face-id]")) {
    el.textContent = initials(el.dataset.faceName);
    el.style.setProperty("--face", faceColour(el.dataset.faceId));
  }

  function fieldError(field, message) {
    const box = form.querySelector(`[data-field="${field}"]`);
    box.textContent = message || "";
    box.hidden = !message;
    const targets = field === "participants" ? inputs.filter((i) => i.value.trim()) : [when];
    for (const el of field === "participants" ? inputs : [when]) el.removeAttribute("aria-invalid");
    if (message) for (const el of targets) el.setAttribute("aria-invalid", "true");
  }

  function clearErrors() {
    fieldError("participants", "");
    fieldError("scheduled_for", "");
    general.hidden = true;
  }

  function label() {
    submit.textContent = when.value ? "Schedule" : "Start now";
  }

  opener.addEventListener("click", () => {
    form.reset();
    clearErrors();
    label();
    // Not before now: the picker opens on today.
    const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
    when.min = now.toISOString().slice(0, 16);
    dialog.showModal();
    inputs[0]?.focus();
  });
  for (const b of dialog.querySelectorAll('[data-action="close-start"]')) b.addEventListener("click", () => dialog.close());
  when.addEventListener("input", label);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const participants = inputs.map((i) => i.value.trim()).filter(Boolean);
    const bad = inputs.find((i) => i.value.trim() && !i.checkValidity());
    if (bad) {
      fieldError("participants", `“${bad.value.trim()}” is not an email address.`);
      bad.focus();
      return;
    }
    const body = { video_id: videoId, participants };
    if (when.value) {
      const at = new Date(when.value);
      if (Number.isNaN(at.getTime())) {
        fieldError("scheduled_for", "Choose a date and a time.");
        when.focus();
        return;
      }
      body.scheduled_for = at.toISOString();
    }
    submit.disabled = true;
    try {
      const debrief = await api("POST", "/api/debriefs", body);
      if (!debrief.scheduled_for) {
        window.location.assign(debrief.url);
        return;
      }
      dialog.close();
      const at = new Date(debrief.scheduled_for).toLocaleString(undefined, { weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
      done.replaceChildren(`Debrief scheduled for ${at}. `);
      const link = document.createElement("a");
      link.href = debrief.url;
      link.textContent = "Open its room";
      done.append(link);
      done.hidden = false;
      announce(`Debrief scheduled for ${at}. Everyone invited sees it on their home page.`);
    } catch (err) {
      const field = (err.field || "").split(".")[0]; // "participants.1" from the schema
      if (field === "participants" || field === "scheduled_for") {
        fieldError(field, err.message);
        (field === "participants" ? inputs.find((i) => i.value.trim()) || inputs[0] : when).focus();
      } else {
        general.textContent = err.message;
        general.hidden = false;
      }
    } finally {
      submit.disabled = false;
    }
  });
}

if (dialog && opener) start();

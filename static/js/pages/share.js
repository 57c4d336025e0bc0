// The share dialog on the teacher's home: list, add and revoke who may watch a lesson.
import { api, announce } from "../lib/api.js";

const dialog = document.getElementById("share-dialog");
const form = document.getElementById("share-form");
const list = dialog?.querySelector('[data-role="list"]');
const errorBox = dialog?.querySelector('[data-role="error"]');
let videoId = null;

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function render(shares) {
  list.replaceChildren(
    ...shares.map((share) => {
      const li = document.createElement("li");
      const who = document.createElement("span");
      who.innerHTML = "<strong></strong> <span class=\"muted small\"></span>";
      who.querySelector("strong").textContent = share.grantee.name;
      who.querySelector("span").textContent = `${share.grantee.email} · ${share.grantee.role} · can ${share.permission}`;
      const revoke = document.createElement("button");
      revoke.className = "btn btn-small btn-ghost";
      revoke.type = "button";
      revoke.textContent = "Revoke";
      revoke.setAttribute("aria-label", `Revoke access for ${share.grantee.name}`);
      revoke.addEventListener("click", async () => {
        try {
          await api("DELETE", `/api/videos/${videoId}/shares/${share.id}`);
          announce(`${share.grantee.name} can no longer watch this lesson.`);
          await refresh();
        } catch (err) {
          showError(err.message);
        }
      });
      li.append(who, revoke);
      return li;
    }),
  );
  dialog.querySelector('[data-role="empty"]').hidden = shares.length > 0;
}

async function refresh() {
  render(await api("GET", `/api/videos/${videoId}/shares`));
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-share-video]");
  if (!button || !dialog) return;
  videoId = Number(button.dataset.shareVideo);
  dialog.querySelector('[data-role="title"]').textContent = button.dataset.title;
  showError("");
  form.reset();
  dialog.showModal();
  try {
    await refresh();
  } catch (err) {
    showError(err.message);
  }
});

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  try {
    const share = await api("POST", `/api/videos/${videoId}/shares`, {
      email: data.get("email"),
      permission: data.get("permission"),
    });
    showError("");
    form.reset();
    announce(`Shared with ${share.grantee.name}.`);
    await refresh();
  } catch (err) {
    showError(err.message);
  }
});

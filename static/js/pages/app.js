// Every signed-in page: live updates of video cards (status, shares, revocations).
import { connect } from "../lib/realtime.js";
import { announce } from "../lib/api.js";

function cardFor(videoId) {
  return document.querySelector(`.video-card[data-video-id="${videoId}"]`);
}

function start() {
  if (!document.body.dataset.userId) return;
  const socket = connect();
  socket.on("connect", () => { document.body.dataset.live = "on"; });
  socket.on("disconnect", () => { document.body.dataset.live = "off"; });
  socket.on("video.status", ({ video_id, status }) => {
    const card = cardFor(video_id);
    if (!card) return;
    card.dataset.status = status;
    const badge = card.querySelector('[data-role="status"]');
    if (badge) {
      badge.className = `badge badge-${status}`;
      badge.textContent = status[0].toUpperCase() + status.slice(1);
    }
  });
  socket.on("video.deleted", ({ video_id }) => cardFor(video_id)?.remove());
  socket.on("video.access_revoked", ({ video_id }) => {
    cardFor(video_id)?.remove();
    const shell = document.querySelector(`.player-shell[data-video-id="${video_id}"]`);
    if (shell) {
      shell.innerHTML = '<div class="player-placeholder"><p>The owner stopped sharing this lesson with you.</p></div>';
    }
    announce("A lesson is no longer shared with you.");
  });
  socket.on("video.shared", ({ title }) => announce(`New lesson shared with you: ${title}. Reload to see it.`));
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
}

start();

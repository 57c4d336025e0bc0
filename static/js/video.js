// The lesson page: HLS through hls.js (native on Safari, MP4 as the fallback), live processing.
import Hls from "/static/vendor/hls.js/hls.min.mjs";
import { api, announce } from "./api.js";
import { connect, joinVideo } from "./realtime.js";

const shell = document.querySelector(".player-shell");
const video = shell?.querySelector("video");
const placeholder = shell?.querySelector('[data-role="placeholder"]');
let hls = null;

export function attach(element, { hlsUrl, mp4Url, poster }) {
  element.poster = poster;
  if (Hls.isSupported()) {
    // startPosition 0: a lesson still being encoded is a growing (EVENT) playlist; start it at 0:00.
    const player = new Hls({ capLevelToPlayerSize: true, startLevel: -1, startPosition: 0 });
    player.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) {
        // The adaptive stream failed for good: the progressive MP4 still plays.
        player.destroy();
        element.src = mp4Url;
      }
    });
    player.loadSource(hlsUrl);
    player.attachMedia(element);
    return player;
  }
  element.src = element.canPlayType("application/vnd.apple.mpegurl") ? hlsUrl : mp4Url;
  return null;
}

function showPlayer() {
  if (!video || shell.dataset.playable === "loaded") return;
  shell.dataset.playable = "loaded";
  placeholder.hidden = true;
  video.hidden = false;
  hls = attach(video, { hlsUrl: shell.dataset.hls, mp4Url: shell.dataset.mp4, poster: shell.dataset.poster });
  window.loupePlayer = { video, hls };
}

// The early (preview) playlist was playing: load the full ladder, keeping place and state.
function switchToFinal() {
  if (shell.dataset.playable !== "loaded" || shell.dataset.status === "ready") return;
  const at = video.currentTime;
  const playing = !video.paused;
  hls?.destroy();
  hls = attach(video, { hlsUrl: shell.dataset.hls, mp4Url: shell.dataset.mp4, poster: shell.dataset.poster });
  window.loupePlayer = { video, hls };
  video.addEventListener("loadedmetadata", () => {
    video.currentTime = at;
    if (playing) video.play();
  }, { once: true });
}

function setStatus(status) {
  const badge = document.querySelector('.page-head [data-role="status"]');
  badge.className = `badge badge-${status}`;
  badge.textContent = status[0].toUpperCase() + status.slice(1);
  shell.dataset.status = status;
}

function showProgress({ stage, percent, eta_s }) {
  const bar = shell.querySelector(".progress");
  if (!bar) return;
  bar.setAttribute("aria-valuenow", Math.round(percent));
  bar.querySelector("span").style.setProperty("--pct", `${percent}%`);
  const eta = eta_s == null ? "" : ` · about ${eta_s < 90 ? `${Math.round(eta_s)} s` : `${Math.round(eta_s / 60)} min`} left`;
  shell.querySelector('[data-role="stage"]').textContent = `${stage[0].toUpperCase()}${stage.slice(1)} · ${Math.round(percent)}%${eta}`;
}

if (shell) {
  const videoId = Number(shell.dataset.videoId);
  if (shell.dataset.playable === "true") showPlayer();
  const bar = shell.querySelector(".progress span");
  if (bar) bar.style.setProperty("--pct", `${bar.dataset.pct}%`); // CSP allows no inline styles
  const socket = connect();
  const join = () => joinVideo(videoId);
  socket.on("connect", join);
  if (socket.connected) join();
  socket.on("video.progress", (msg) => {
    if (msg.video_id !== videoId) return;
    showProgress(msg);
    if (msg.playable) showPlayer();
  });
  socket.on("video.status", (msg) => {
    if (msg.video_id !== videoId) return;
    if (msg.status === "ready") {
      switchToFinal();
      setStatus(msg.status);
      announce("The lesson is ready to watch.");
      showPlayer();
      return;
    }
    setStatus(msg.status);
    if (msg.status === "failed") window.location.reload(); // shows the reason and the retry
  });
  shell.querySelector('[data-action="retry"]')?.addEventListener("click", async (event) => {
    event.target.disabled = true;
    try {
      await api("POST", `/api/videos/${videoId}/process`);
      window.location.reload();
    } catch (err) {
      announce(err.message);
      event.target.disabled = false;
    }
  });
}

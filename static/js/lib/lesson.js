// A lesson in the page: HLS through hls.js (native on Safari, MP4 as the fallback), live
// processing, then the tools to study it: controls and shortcuts (player.js), the timeline
// (timeline.js), the annotation feed (annotations.js) and who else is watching (presence.js).
// The lesson page (pages/video.js) and the debrief room both call mountLesson().
import Hls from "/static/vendor/hls.js/hls.min.mjs";
import { api, announce } from "./api.js";
import { connect, joinVideo } from "./realtime.js";
import { bindShortcuts, createPlayer } from "./player.js";
import { createTimeline } from "./timeline.js";
import { createAnnotationFeed, describe } from "./annotations.js";
import { createPresence } from "./presence.js";

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

// Mount the lesson found in the page: player, timeline, feedback, the video's room and live
// processing. Nothing happens until it is called (the page entry or a debrief room calls it).
// `onIntent` hears the person's own play, pause, seek and speed (see player.js).
export function mountLesson({ socket = connect(), onIntent = null } = {}) {
  const shell = document.querySelector(".player-shell");
  const video = shell?.querySelector("video");
  const placeholder = shell?.querySelector('[data-role="placeholder"]');
  const lessonRoot = document.querySelector('[data-role="lesson"]');
  const stage = document.querySelector('[data-role="player-stage"]');
  let hls = null;
  let player = null;
  let timeline = null;
  let extrasLoaded = false;


  // Storyboard, waveform, frame rate and captions exist once the lesson is fully processed.
  async function loadExtras() {
    if (extrasLoaded || shell.dataset.status !== "ready" || !timeline) return;
    extrasLoaded = true;
    const base = shell.dataset.media;
    timeline.loadStoryboard(`${base}storyboard.vtt`);
    timeline.loadPeaks(`${base}peaks.json`);
    try {
      const response = await fetch(`${base}manifest.json`, { credentials: "same-origin" });
      if (!response.ok) return;
      const manifest = await response.json();
      // The ladder is encoded at no more than 30 fps (the pipeline's default cap); the manifest
      // records only the source's rate.
      const fps = manifest.source?.video?.fps;
      if (fps) player.setFps(Math.min(fps, 30));
      if (manifest.duration_s) timeline.setDuration(manifest.duration_s);
      const captions = (manifest.captions || [])
        .filter((c) => typeof c?.path === "string")
        .map((c) => ({ src: base + c.path, language: c.language, label: c.label }));
      player.addCaptions(captions);
    } catch {
      // The player works without them.
    }
  }

  function showPlayer() {
    if (!video || shell.dataset.playable === "loaded") return;
    shell.dataset.playable = "loaded";
    placeholder.hidden = true;
    video.hidden = false;
    hls = attach(video, { hlsUrl: shell.dataset.hls, mp4Url: shell.dataset.mp4, poster: shell.dataset.poster });
    window.loupePlayer = { video, hls };
    player?.show();
    timeline?.show();
    stage?.setAttribute("data-loaded", "true");
    loadExtras();
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
    if (badge) {
      badge.className = `badge badge-${status}`;
      badge.textContent = status[0].toUpperCase() + status.slice(1);
    }
    shell.dataset.status = status;
  }

  function showProgress({ stage: step, percent, eta_s }) {
    const bar = shell.querySelector(".progress");
    if (!bar) return;
    bar.setAttribute("aria-valuenow", Math.round(percent));
    bar.querySelector("span").style.setProperty("--pct", `${percent}%`);
    const eta = eta_s == null ? "" : ` · about ${eta_s < 90 ? `${Math.round(eta_s)} s` : `${Math.round(eta_s / 60)} min`} left`;
    shell.querySelector('[data-role="stage"]').textContent = `${step[0].toUpperCase()}${step.slice(1)} · ${Math.round(percent)}%${eta}`;
  }

  function startFeed(socket, onIntent) {
    const me = {
      id: Number(lessonRoot.dataset.meId),
      name: lessonRoot.dataset.meName,
      role: lessonRoot.dataset.meRole,
    };
    const canComment = lessonRoot.dataset.canComment === "true";
    const known = Number(lessonRoot.dataset.duration) || 0;
    player = createPlayer({
      stage,
      video,
      controls: stage.querySelector('[data-role="controls"]'),
      knownDuration: known,
      onIntent,
    });
    let feed = null;
    timeline = createTimeline({
      root: stage.querySelector('[data-role="timeline"]'),
      player,
      canSelect: canComment,
      describe,
      onRange: (inMs, outMs) => feed.range(inMs, outMs),
      onMarker: (id) => feed.goTo(id),
    });
    if (known) timeline.setDuration(known);
    feed = createAnnotationFeed({
      root: lessonRoot,
      player,
      timeline,
      me,
      canComment,
    });
    const shortcuts = document.querySelector('[data-role="shortcuts"]');
    const help = () => (shortcuts.open ? shortcuts.close() : shortcuts.showModal());
    stage.querySelector('[data-action="shortcuts"]').addEventListener("click", help);
    bindShortcuts(player, {
      comment: feed.comment,
      markIn: feed.markIn,
      markOut: feed.markOut,
      previous: feed.previous,
      next: feed.next,
      help,
      escape: feed.escape,
    });
    const presenceBox = document.querySelector('[data-role="presence"]');
    if (presenceBox) createPresence({ box: presenceBox, socket, videoId: Number(lessonRoot.dataset.videoId), me });
    feed.listen(socket);
    feed.sync();
    // Hooks for people debugging the page and for the browser tests.
    window.loupeLesson = { feed, player, timeline, socket, metrics: feed.metrics };
    return feed;
  }

  if (!shell) return null;
  const videoId = Number(shell.dataset.videoId);
  const feed = lessonRoot && stage ? startFeed(socket, onIntent) : null;
  if (shell.dataset.playable === "true") showPlayer();
  const bar = shell.querySelector(".progress span");
  if (bar) bar.style.setProperty("--pct", `${bar.dataset.pct}%`); // CSP allows no inline styles
  // After every (re)connect: join the room, then fetch whatever changed while we were away.
  const join = async () => {
    const answer = await joinVideo(videoId);
    if (answer?.ok) feed?.sync();
  };
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
      loadExtras();
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
  return { video, player, timeline, feed, socket };
}


// Player controls (play, seek, frame step, speed, mute, captions, full screen) and the
// page's keyboard shortcuts. The timeline and the feedback panel plug in through callbacks.
// Embedded in a debrief, `onIntent` hears every play, pause, seek or speed the person asks for
// (through the controls, shortcuts, timeline or comment list), and `apply` sets the state
// another person asked for without being heard there: no echo between players.
import { clock, isTextField, precise } from "./timecode.js";

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

export function createPlayer({ stage, video, controls, knownDuration, onIntent = null }) {
  const $ = (sel) => controls.querySelector(sel);
  const playButton = $('[data-action="play"]');
  const bigPlay = stage.querySelector('[data-action="bigplay"]');
  const muteButton = $('[data-action="volume"]');
  const speed = $('[data-role="speed"]');
  const ccButton = $('[data-action="captions"]');
  const fullButton = $('[data-action="fullscreen"]');
  const currentLabel = $('[data-role="current"]');
  const durationLabel = $('[data-role="duration"]');
  const listeners = new Set();
  let fps = 30;
  let frame = 0;
  let rate = 1; // the chosen speed; drift correction multiplies it by `nudge` for a while
  let nudge = 1;

  function intent() {
    onIntent?.({ playing: !video.paused && !video.ended, position: video.currentTime || 0, rate });
  }

  function duration() {
    const d = video.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return knownDuration > 0 ? knownDuration : 0;
  }

  function moveTo(seconds) {
    const d = duration();
    video.currentTime = clamp(seconds, 0, d > 0 ? d : Math.max(0, seconds));
    tick();
  }

  function seek(seconds) {
    moveTo(seconds);
    intent();
  }

  // play() and pause() change `paused` at once, so the intent reports the state asked for.
  function togglePlay() {
    if (video.paused || video.ended) video.play().catch(() => {});
    else video.pause();
    intent();
  }

  function pause() {
    if (video.paused) return;
    video.pause();
    intent();
  }

  function stepFrame(n) {
    video.pause();
    const at = Math.round(video.currentTime * fps) + n;
    // Aim a hair past the frame's start so the decoder lands on that frame, not the one before.
    moveTo(Math.max(0, at / fps + 0.25 / fps));
    intent();
  }

  function setRate(value) {
    rate = value;
    video.playbackRate = rate * nudge;
  }

  // Someone else's play, pause, seek or speed: applied here, not reported back.
  function apply({ playing, position, rate: wanted } = {}) {
    if (Number.isFinite(wanted) && wanted > 0 && wanted !== rate) setRate(wanted);
    if (Number.isFinite(position)) moveTo(position);
    if (playing === true && (video.paused || video.ended)) video.play().catch(() => {});
    else if (playing === false && !video.paused) video.pause();
  }

  // Drift correction plays a little faster or slower than the chosen speed; 1 ends it.
  function setNudge(factor) {
    if (!(factor > 0) || factor === nudge) return;
    nudge = factor;
    video.playbackRate = rate * nudge;
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else stage.requestFullscreen?.().catch(() => {});
  }

  function setFps(value) {
    if (Number.isFinite(value) && value > 1 && value <= 120) fps = value;
  }

  function addCaptions(tracks) {
    if (!tracks?.length) return;
    for (const t of tracks) {
      const el = document.createElement("track");
      el.kind = "captions";
      el.src = t.src;
      el.srclang = t.language || "en";
      el.label = t.label || t.language || "Captions";
      video.append(el);
    }
    ccButton.hidden = false;
  }

  function toggleCaptions() {
    const tracks = [...video.textTracks].filter((t) => t.kind === "captions" || t.kind === "subtitles");
    if (!tracks.length) return;
    const on = tracks.some((t) => t.mode === "showing");
    tracks.forEach((t, i) => { t.mode = !on && i === 0 ? "showing" : "hidden"; });
    ccButton.setAttribute("aria-pressed", String(!on));
  }

  // One place draws the time: the timeline listens through onTick, at display rate while playing.
  function tick() {
    const t = video.currentTime || 0;
    currentLabel.textContent = precise(t * 1000);
    const d = duration();
    durationLabel.textContent = d ? clock(d * 1000) : "–:––";
    for (const fn of listeners) fn(t, d);
  }
  function loop() {
    tick();
    frame = video.paused ? 0 : requestAnimationFrame(loop);
  }
  function onPlayState() {
    const playing = !video.paused && !video.ended;
    stage.dataset.playing = String(playing);
    const label = playing ? "Pause (K)" : "Play (K)";
    playButton.setAttribute("aria-label", label);
    playButton.title = label;
    bigPlay.hidden = playing || video.hidden;
    cancelAnimationFrame(frame);
    if (playing) frame = requestAnimationFrame(loop);
    tick();
  }

  video.addEventListener("play", onPlayState);
  video.addEventListener("pause", onPlayState);
  video.addEventListener("ended", onPlayState);
  video.addEventListener("loadedmetadata", () => { onPlayState(); tick(); });
  video.addEventListener("durationchange", tick);
  video.addEventListener("timeupdate", () => { if (video.paused) tick(); });
  video.addEventListener("seeked", tick);
  video.addEventListener("volumechange", () => {
    stage.dataset.muted = String(video.muted);
    muteButton.setAttribute("aria-pressed", String(video.muted));
    muteButton.setAttribute("aria-label", video.muted ? "Unmute" : "Mute");
  });
  video.addEventListener("ratechange", () => { speed.value = String(rate); });
  video.addEventListener("click", togglePlay);

  playButton.addEventListener("click", togglePlay);
  bigPlay.addEventListener("click", togglePlay);
  $('[data-action="back10"]').addEventListener("click", () => seek(video.currentTime - 10));
  $('[data-action="forward10"]').addEventListener("click", () => seek(video.currentTime + 10));
  $('[data-action="frame-back"]').addEventListener("click", () => stepFrame(-1));
  $('[data-action="frame-forward"]').addEventListener("click", () => stepFrame(1));
  muteButton.addEventListener("click", () => { video.muted = !video.muted; });
  speed.addEventListener("change", () => {
    setRate(Number(speed.value));
    intent();
  });
  ccButton.addEventListener("click", toggleCaptions);
  fullButton.addEventListener("click", toggleFullscreen);
  document.addEventListener("fullscreenchange", () => {
    const full = document.fullscreenElement === stage;
    stage.dataset.fullscreen = String(full);
    fullButton.setAttribute("aria-label", full ? "Exit full screen" : "Full screen");
    fullButton.title = full ? "Exit full screen" : "Full screen";
  });

  return {
    video,
    seek,
    togglePlay,
    stepFrame,
    toggleFullscreen,
    setFps,
    addCaptions,
    duration,
    nowMs: () => Math.round((video.currentTime || 0) * 1000),
    pause,
    apply,
    setNudge,
    rate: () => rate,
    onTick: (fn) => { listeners.add(fn); },
    refresh: tick,
    show() {
      controls.hidden = false;
      onPlayState();
    },
  };
}

// Keyboard shortcuts for the whole page, except while typing or inside a dialog.
export function bindShortcuts(player, actions) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    const target = event.target;
    if (isTextField(target)) return;
    // Space and Enter keep their meaning on buttons and links.
    const onControl = target instanceof Element && target.closest("button, a[href], summary, [role=button]");
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const run = {
      " ": onControl ? null : () => player.togglePlay(),
      k: () => player.togglePlay(),
      j: () => player.seek(player.video.currentTime - 10),
      l: () => player.seek(player.video.currentTime + 10),
      ArrowLeft: () => player.seek(player.video.currentTime - 5),
      ArrowRight: () => player.seek(player.video.currentTime + 5),
      Home: target?.dataset?.role === "track" ? () => player.seek(0) : null,
      End: target?.dataset?.role === "track" ? () => player.seek(player.duration()) : null,
      ",": () => player.stepFrame(-1),
      ".": () => player.stepFrame(1),
      f: () => player.toggleFullscreen(),
      m: () => { player.video.muted = !player.video.muted; },
      c: actions.comment,
      Enter: onControl ? null : actions.comment,
      i: actions.markIn,
      o: actions.markOut,
      "[": actions.previous,
      "]": actions.next,
      "?": actions.help,
      Escape: actions.escape,
    }[key];
    if (!run) return;
    event.preventDefault();
    run();
  });
}

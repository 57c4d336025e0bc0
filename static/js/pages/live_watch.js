// Watch a live lesson: WHEP playback (muted autoplay, an unmute button), the lesson clock,
// who else is watching, and live feedback stamped with the lesson time, which is the time of the
// recording, so every comment sits at its moment once the lesson is processed.
import { announce, api, ApiError } from "../lib/api.js";
import { connect, joinVideo } from "../lib/realtime.js";
import { clock } from "../lib/timecode.js";
import { createLessonClock, delay, hangUp, negotiate, videoStats } from "../lib/whip.js";
import { createAnnotationStore, newestFirst } from "../lib/annotation_store.js";
import { createRowBuilder } from "../lib/annotation_rows.js";
import { createComposer } from "../lib/annotation_composer.js";
import { createPresence } from "../lib/presence.js";

const STALL_CHECKS = 3; // stats every 2 s: this many without a new frame while live means re-watch
const DISCONNECTED_MS = 6000;

const root = document.querySelector('[data-role="live-watch"]');
const $ = (role, scope = root) => scope.querySelector(`[data-role="${role}"]`);
const streamId = Number(root.dataset.streamId);
const videoId = Number(root.dataset.videoId);
const me = { id: Number(root.dataset.meId), name: root.dataset.meName, role: root.dataset.meRole };
const iceServers = JSON.parse(root.dataset.ice || "[]");
const video = $("video");
const socket = connect();
const lessonClock = createLessonClock(streamId);
const metrics = { connects: 0, firstFrameMs: null, whepToFirstFrameMs: null };

let status = root.dataset.status; // live | interrupted | ended | failed
let pc = null;
let whepLocation = null; // what to DELETE to stop watching
let generation = 0; // each watch() attempt; a late answer of an older one is dropped
let stalled = 0;
let lastFrames = null;
let disconnectedTimer = 0;

// --- playback (WHEP) ------------------------------------------------------------------------

// Close our connection and leave the gateway's viewers (unless the lesson is over: it forgot us).
async function stopWatching({ leave = true } = {}) {
  const old = pc;
  const where = whepLocation;
  pc = null;
  whepLocation = null;
  old?.close();
  if (where && leave) await hangUp(where);
}

async function watch() {
  const mine = ++generation;
  await stopWatching();
  if (mine !== generation) return;
  overlay("connecting");
  const next = new RTCPeerConnection({ iceServers });
  next.addTransceiver("video", { direction: "recvonly" });
  next.addTransceiver("audio", { direction: "recvonly" });
  const media = new MediaStream();
  next.addEventListener("track", (event) => media.addTrack(event.track));
  next.addEventListener("connectionstatechange", () => onConnection(next));
  const asked = performance.now();
  let response;
  try {
    response = await negotiate(next, `/api/live/${streamId}/whep`);
  } catch (err) {
    next.close();
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 404) {
      // No longer ours to watch, or the gateway let go of the lesson a moment before it ended.
      const data = await refresh();
      if (mine !== generation) return;
      if (data === null) overlay("gone");
      else if (status === "live") retryLater(mine);
      return;
    }
    if (err instanceof ApiError && err.status === 409) {
      // Not live this instant (the teacher's connection dropped): the status says what next.
      await refresh();
      if (status === "live") retryLater(mine);
      return;
    }
    retryLater(mine);
    return;
  }
  if (mine !== generation) {
    next.close();
    hangUp(response.headers.get("Location"));
    return;
  }
  pc = next;
  whepLocation = response.headers.get("Location");
  metrics.connects += 1;
  stalled = 0;
  lastFrames = null;
  video.srcObject = media;
  video.play().catch(() => {}); // muted autoplay is allowed; sound waits for the button
  firstFrame(mine, asked);
}

function retryLater(mine) {
  overlay("connecting", "Trying again…");
  delay(2000).then(() => {
    if (mine === generation && status === "live") watch();
  });
}

function firstFrame(mine, asked) {
  const shown = () => {
    if (mine !== generation) return;
    const now = performance.now();
    if (metrics.firstFrameMs == null) metrics.firstFrameMs = Math.round(now); // since the page opened
    metrics.whepToFirstFrameMs = Math.round(now - asked);
    if (status === "live") overlay(null);
  };
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(shown);
  else video.addEventListener("playing", shown, { once: true });
}

function onConnection(which) {
  if (which !== pc) return;
  const s = which.connectionState;
  clearTimeout(disconnectedTimer);
  showConnection(s);
  if (s === "failed") rewatch();
  else if (s === "disconnected") {
    disconnectedTimer = setTimeout(() => {
      if (which === pc && which.connectionState === "disconnected") rewatch();
    }, DISCONNECTED_MS);
  }
}

async function rewatch() {
  await refresh();
  if (status === "live") watch();
}

function showConnection(s) {
  const pill = $("conn-pill");
  pill.hidden = s === "connected" || status !== "live";
  pill.dataset.quality = s === "failed" ? "bad" : "fair";
  $("conn-text").textContent = { new: "Connecting…", connecting: "Connecting…", disconnected: "Weak connection…", failed: "Connection lost" }[s] || "";
}

// Frames stop (a missed status change, a stuck relay): connect again.
async function watchdog() {
  if (!pc || status !== "live" || pc.connectionState !== "connected") return;
  const inbound = await videoStats(pc, "inbound-rtp").catch(() => null);
  if (!inbound) return;
  const frames = inbound.framesDecoded ?? 0;
  stalled = lastFrames != null && frames === lastFrames ? stalled + 1 : 0;
  lastFrames = frames;
  if (stalled >= STALL_CHECKS) {
    stalled = 0;
    watch();
  }
}

// --- the lesson's status ---------------------------------------------------------------------

const OVERLAYS = {
  connecting: ["Connecting to the lesson…", ""],
  interrupted: ["The teacher's connection dropped — waiting…", "The lesson continues here as soon as it is back."],
  ended: ["The lesson ended; it is being processed", "It will be on the lesson page with every comment at its moment."],
  failed: ["The lesson's recording could not be used", "Open the lesson page for details."],
  gone: ["You can no longer watch this lesson", "Its owner may have stopped sharing it."],
};

function overlay(kind, detail) {
  const box = $("overlay");
  box.hidden = !kind;
  if (!kind) return;
  box.dataset.kind = kind;
  $("overlay-title").textContent = OVERLAYS[kind][0];
  $("overlay-detail").textContent = detail ?? OVERLAYS[kind][1];
  $("overlay-link").hidden = kind !== "ended" && kind !== "failed";
}

function applyStatus(next, { resumed = false } = {}) {
  const before = status;
  status = next;
  root.dataset.status = next;
  $("live-pill").dataset.status = next;
  $("live-word").textContent = next === "live" ? "LIVE" : next === "interrupted" ? "PAUSED" : "ENDED";
  if (next === "live") {
    if (resumed || !pc || before !== "live") watch();
  } else if (next === "interrupted") {
    generation += 1;
    stopWatching();
    overlay("interrupted");
  } else {
    generation += 1;
    stopWatching({ leave: false });
    video.srcObject = null;
    overlay(next === "failed" ? "failed" : "ended");
    composer?.close();
  }
  if (before !== next && before) {
    if (next === "interrupted") announce("The teacher's connection dropped. Waiting for it to come back.");
    if (next === "live" && before === "interrupted") announce("The lesson is back.");
    if (next === "ended") announce("The lesson ended; it is being processed.");
  }
}

// Ask the server: the status and, from the same answers, the lesson clock.
async function refresh() {
  try {
    const data = await lessonClock.sync();
    if (data.status !== status) applyStatus(data.status);
    return data;
  } catch {
    return null;
  }
}

function tick() {
  if (lessonClock.ready) $("clock").textContent = clock(lessonClock.now());
  if (composer && stamp.follow) showStamp();
}

// --- feedback: the live feed, newest first, and the comment box stamped with the lesson time ---

const list = $("list");
const rowsOf = createRowBuilder({ me, seekable: false, threads: false });
const rows = new Map(); // id -> row

function counts() {
  $("count").textContent = store.size ? String(store.size) : "";
  $("empty").hidden = store.size > 0;
}

const store = createAnnotationStore({
  videoId,
  me,
  compare: newestFirst,
  onUpsert(a, { fresh }) {
    rows.get(a.id)?.remove();
    const row = rowsOf.row(a);
    row.classList.add("live-note");
    rows.set(a.id, row);
    const next = store.order[store.order.indexOf(a) + 1];
    list.insertBefore(row, next ? rows.get(next.id) : null);
    if (fresh) {
      row.classList.add("is-new");
      row.addEventListener("animationend", () => row.classList.remove("is-new"), { once: true });
    }
    counts();
  },
  onRemove(id) {
    rows.get(id)?.remove();
    rows.delete(id);
    counts();
  },
});

async function loadFeedback() {
  await store.sync();
  list.setAttribute("aria-busy", "false");
  counts();
}

// The stamp follows the lesson until one starts writing (or picks a chip): the comment sits at
// the moment that prompted it, not when it is sent. A click on the stamp takes the time now.
const stamp = { follow: true, ms: 0 };
let framework = null;

function showStamp() {
  const button = $("composer-time", composer.form);
  const ms = stamp.follow ? lessonClock.now() : stamp.ms;
  button.textContent = `@ ${clock(ms)}`;
  button.setAttribute("aria-label", stamp.follow ? `At ${clock(ms)}, the lesson's current time` : `At ${clock(ms)}. Use the current time instead.`);
  $("stamp-state", composer.form).textContent = stamp.follow ? "follows the lesson" : "when you started · click for now";
  composer.form.dataset.stamped = String(!stamp.follow);
}

function hold(ms = lessonClock.now()) {
  stamp.follow = false;
  stamp.ms = ms;
  showStamp();
}

const composerForm = $("composer");
const composer = composerForm ? createComposer({
  form: composerForm,
  videoId,
  getFramework: () => framework,
  when: () => ({ start_ms: stamp.ms }),
  async beforeSubmit() {
    if (!lessonClock.ready) await lessonClock.sync().catch(() => {});
    if (stamp.follow) hold();
  },
  onSaved: (saved) => store.upsert(saved),
  onPick() {
    if (stamp.follow) hold();
  },
  onEscape() {
    if (!composer.body.value.trim()) composer.reset();
  },
  onReset() {
    stamp.follow = true;
    if (composer) showStamp();
  },
}) : null;

if (composer) {
  composer.body.addEventListener("focus", () => {
    if (stamp.follow && lessonClock.ready) hold();
  });
  $("composer-time", composerForm).addEventListener("click", () => {
    hold();
    composer.body.focus();
    announce(`The comment is now at ${clock(stamp.ms)}.`);
  });
  composer.reset();
  (async () => {
    if (root.dataset.hasFramework !== "true") return;
    try {
      framework = await api("GET", `/api/videos/${videoId}/framework`);
    } catch {
      framework = null;
    }
    composer.renderChips();
  })();
}

// --- sound ---------------------------------------------------------------------------------

const soundButton = root.querySelector('[data-action="sound"]');
function showSound() {
  const on = !video.muted;
  soundButton.setAttribute("aria-pressed", String(on));
  soundButton.dataset.on = String(on);
  $("sound-text").textContent = on ? "Mute" : "Unmute";
  soundButton.setAttribute("aria-label", on ? "Sound on: mute" : "Sound off: unmute");
}
soundButton.addEventListener("click", () => {
  video.muted = !video.muted;
  if (!video.muted) video.play().catch(() => {});
  showSound();
});
video.addEventListener("volumechange", showSound);

// --- wiring ----------------------------------------------------------------------------------

// The teacher streaming is teaching, not watching: she is left out of the line.
createPresence({ box: $("presence"), socket, videoId, me, ignore: [Number(root.dataset.ownerId)], also: true });
// After every (re)connect: join the lesson's room, then catch up on whatever happened meanwhile.
async function onConnect() {
  await joinVideo(videoId);
  await refresh();
  loadFeedback();
}
socket.on("connect", onConnect);
if (socket.connected) onConnect();
socket.on("live.status", (msg) => {
  if (msg.video_id !== videoId) return;
  const resumed = msg.status === "live" && status !== "live";
  // A "live" after an interruption means new tracks at the gateway: always connect again.
  applyStatus(msg.status, { resumed: resumed || msg.status === "live" });
  if (msg.status === "ended" || msg.status === "live") lessonClock.sync(1).catch(() => {});
});
store.listen(socket);
window.addEventListener("pagehide", () => {
  // Leave the gateway's viewer list at once rather than when the connection times out.
  if (whepLocation) fetch(whepLocation, { method: "DELETE", keepalive: true, credentials: "same-origin", headers: { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]')?.content ?? "" } });
});

window.loupeLive = {
  metrics,
  clock: lessonClock,
  get pc() { return pc; },
  get status() { return status; },
  async framesDecoded() {
    const inbound = await videoStats(pc, "inbound-rtp");
    return inbound?.framesDecoded ?? 0;
  },
};

showSound();
counts();
setInterval(tick, 250);
setInterval(watchdog, 2000);
applyStatus(status);
if (!socket.connected) {
  refresh();
  loadFeedback();
}

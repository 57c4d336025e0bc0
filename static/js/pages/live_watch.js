// Watch a live lesson: WHEP playback (muted autoplay, an unmute button), the lesson clock,
// who else is watching, and live feedback stamped with the lesson time, which is the time of the
// recording, so every comment sits at its moment once the lesson is processed.
import { announce, api, ApiError } from "../lib/api.js";
import { connect, joinVideo } from "../lib/realtime.js";
import { ago, clock, faceColour, initials } from "../lib/timecode.js";
import { createLessonClock, delay, hangUp, negotiate, videoStats } from "../lib/whip.js";
import { createRubricPicker } from "../lib/rubric_picker.js";
import { createPresence } from "../lib/presence.js";

const KINDS = { strength: "Strength", question: "Question", suggestion: "Suggestion", note: "Note" };
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
  composer?.tick();
}

// --- feedback: the list --------------------------------------------------------------------

const list = $("list");
const template = $("note-template").content.firstElementChild;
const store = new Map(); // id -> annotation
const seqs = new Map(); // id -> newest seq seen
const rows = new Map(); // id -> li
let cursor = 0;

const newestFirst = (x, y) => y.start_ms - x.start_ms || y.id - x.id;

function face(el, person) {
  el.textContent = initials(person.name);
  el.style.setProperty("--face", faceColour(person.id));
}

function buildRow(a) {
  const row = template.cloneNode(true);
  row.dataset.id = a.id;
  $("time", row).textContent = clock(a.start_ms);
  face($("face", row), a.author);
  $("author", row).textContent = a.author.id === me.id ? `${a.author.name} (you)` : a.author.name;
  $("when", row).textContent = ago(a.created_at);
  let badges = false;
  if (a.tag) {
    badges = true;
    row.style.setProperty("--dim", a.tag.colour);
    const tag = $("tag", row);
    tag.hidden = false;
    $("tag-name", tag).textContent = a.tag.dimension_name;
    if (a.tag.level_label) {
      const level = $("level", tag);
      level.hidden = false;
      level.textContent = a.tag.level_score != null ? `${a.tag.level_score} · ${a.tag.level_label}` : a.tag.level_label;
    }
  }
  if (a.kind !== "note") {
    badges = true;
    const kind = $("kind", row);
    kind.hidden = false;
    kind.textContent = KINDS[a.kind] || a.kind;
    kind.dataset.kind = a.kind;
  }
  if (a.visibility === "private") {
    badges = true;
    $("private", row).hidden = false;
    row.classList.add("is-private");
  }
  $("meta", row).hidden = !badges;
  $("body", row).innerHTML = a.body_html; // rendered and escaped by the server (services.richtext)
  const what = a.tag ? a.tag.dimension_name : KINDS[a.kind] || "Note";
  row.setAttribute("aria-label", `${clock(a.start_ms)}, ${a.author.name}, ${what}`);
  return row;
}

function upsert(a, { fresh = false } = {}) {
  if (a.video_id !== videoId) return;
  const held = seqs.get(a.id);
  if (held != null && held >= a.seq) return;
  seqs.set(a.id, a.seq);
  store.set(a.id, a);
  rows.get(a.id)?.remove();
  const row = buildRow(a);
  rows.set(a.id, row);
  const after = [...store.values()].sort(newestFirst).find((b) => newestFirst(a, b) < 0 && rows.get(b.id)?.isConnected);
  list.insertBefore(row, after ? rows.get(after.id) : null);
  if (fresh) {
    row.classList.add("is-new");
    row.addEventListener("animationend", () => row.classList.remove("is-new"), { once: true });
  }
  counts();
}

function remove(id, seq) {
  if (seq != null) {
    const held = seqs.get(id);
    if (held != null && held > seq) return;
    seqs.set(id, seq);
  }
  store.delete(id);
  rows.get(id)?.remove();
  rows.delete(id);
  counts();
}

function counts() {
  $("count").textContent = store.size ? String(store.size) : "";
  $("empty").hidden = store.size > 0;
}

let syncing = null;
async function loadFeedback() {
  if (syncing) return syncing;
  syncing = (async () => {
    let more = true;
    while (more) {
      const page = await api("GET", `/api/videos/${videoId}/annotations?since=${cursor}&limit=1000`);
      for (const a of page.annotations) upsert(a, { fresh: cursor > 0 && a.author.id !== me.id });
      for (const id of page.removed) remove(id);
      cursor = page.cursor;
      more = page.more;
    }
    list.setAttribute("aria-busy", "false");
    counts();
  })()
    .catch((err) => announce(`Could not load the feedback: ${err.message}`))
    .finally(() => {
      syncing = null;
    });
  return syncing;
}

// --- feedback: the composer ----------------------------------------------------------------

function createComposer(form) {
  const body = $("body", form);
  const stamp = $("stamp", form);
  const stampState = $("stamp-state", form);
  const dims = $("dimensions", form);
  const levels = $("levels", form);
  const privateBox = $("private", form);
  const error = $("error", form);
  const save = $("save", form);
  const state = { follow: true, ms: 0, dimension: null, level: null, closed: false };
  let framework = null;

  function showStamp() {
    const ms = state.follow ? lessonClock.now() : state.ms;
    stamp.textContent = `@ ${clock(ms)}`;
    stamp.setAttribute("aria-label", state.follow ? `At ${clock(ms)}, the lesson's current time` : `At ${clock(ms)}. Use the current time instead.`);
    stampState.textContent = state.follow ? "follows the lesson" : "when you started · click for now";
    form.dataset.stamped = String(!state.follow);
  }

  function hold(ms = lessonClock.now()) {
    state.follow = false;
    state.ms = ms;
    showStamp();
  }

  // Choosing a chip with the mouse starts a comment at this moment, and hands the caret back.
  const { render: renderChips } = createRubricPicker({
    dims,
    levels,
    state,
    getFramework: () => framework,
    onPick: (event) => {
      if (state.follow) hold();
      showStamp();
      if (event.detail > 0) body.focus();
    },
  });

  function reset() {
    state.follow = true;
    state.dimension = state.level = null;
    body.value = "";
    body.style.removeProperty("height");
    privateBox.checked = false;
    form.querySelector('input[name="kind"][value="note"]').checked = true;
    error.hidden = true;
    renderChips();
    showStamp();
  }

  function fail(text) {
    error.textContent = text;
    error.hidden = false;
  }

  async function submit() {
    if (state.closed) return;
    const text = body.value.trim();
    if (!text) {
      fail("Write something first.");
      body.focus();
      return;
    }
    if (!lessonClock.ready) await lessonClock.sync().catch(() => {});
    if (state.follow) hold();
    const payload = {
      start_ms: state.ms,
      body: text,
      kind: form.querySelector('input[name="kind"]:checked')?.value ?? "note",
      visibility: privateBox.checked ? "private" : "shared",
    };
    if (state.dimension != null) payload.dimension_id = state.dimension;
    if (state.level != null) payload.level_id = state.level;
    save.disabled = true;
    error.hidden = true;
    try {
      const saved = await api("POST", `/api/videos/${videoId}/annotations`, payload);
      upsert(saved);
      reset();
      announce(`Comment added at ${clock(saved.start_ms)}.`);
    } catch (err) {
      fail(err.message);
    } finally {
      save.disabled = state.closed;
    }
  }

  function fit() {
    body.style.height = "auto";
    body.style.height = `${body.scrollHeight + 2}px`;
  }

  body.addEventListener("input", fit);
  // Starting to write stamps the comment: the moment that prompted it, not when it is sent.
  body.addEventListener("focus", () => {
    if (state.follow && lessonClock.ready) hold();
  });
  stamp.addEventListener("click", () => {
    hold();
    body.focus();
    announce(`The comment is now at ${clock(state.ms)}.`);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && (event.target === body || event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape" && !body.value.trim()) {
      reset();
    }
  });

  async function loadFramework() {
    if (root.dataset.hasFramework !== "true") return;
    try {
      framework = await api("GET", `/api/videos/${videoId}/framework`);
    } catch {
      framework = null;
    }
    renderChips();
  }

  reset();
  loadFramework();
  return {
    tick() {
      if (state.follow) showStamp();
    },
    close() {
      state.closed = true;
      save.disabled = true;
      body.disabled = true;
      form.dataset.closed = "true";
    },
  };
}

const composerForm = $("composer");
const composer = composerForm ? createComposer(composerForm) : null;

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
socket.on("annotation.changed", (msg) => {
  if (msg.video_id !== videoId) return;
  const known = store.has(msg.annotation.id);
  const mine = msg.annotation.author.id === me.id;
  upsert(msg.annotation, { fresh: !mine });
  if (!known && !mine) announce(`${msg.annotation.author.name} commented at ${clock(msg.annotation.start_ms)}.`);
});
socket.on("annotation.removed", (msg) => {
  if (msg.video_id !== videoId) return;
  remove(msg.id, msg.seq);
});
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

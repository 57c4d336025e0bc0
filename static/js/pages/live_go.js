// Go live: preview the camera and microphone (device choice, level), stream the lesson to the
// gateway over WHIP, show the lesson clock, who is watching and the connection, reconnect by
// itself within the grace period (the same lesson continues), end it and hand it to processing.
import { announce, api, apiRaw, ApiError } from "../lib/api.js";
import { connect, joinVideo } from "../lib/realtime.js";
import { createPresence } from "../lib/presence.js";
import { createAnnotationStore } from "../lib/annotation_store.js";
import { clock } from "../lib/timecode.js";
import { createLivePreview } from "../lib/live_preview.js";
import { createLessonClock, delay, negotiate, videoStats } from "../lib/whip.js";

const DISCONNECTED_MS = 6000; // "disconnected" often heals by itself; after this long, reconnect
const RETRY_MAX_MS = 5000;

const root = document.querySelector('[data-role="live-go"]');
const $ = (role) => root.querySelector(`[data-role="${role}"]`);
const act = (name) => root.querySelector(`[data-action="${name}"]`);

const me = { id: Number(root.dataset.meId), name: root.dataset.meName, role: root.dataset.meRole };
const iceServers = JSON.parse(root.dataset.ice || "[]");
const form = $("setup");
const goButton = $("go");
const setupLede = $("lede").textContent.replace(/\s+/g, " ").trim();
const socket = connect();
const camera = createLivePreview({ root, getPc: () => pc, onChange: () => { goButton.disabled = state !== "setup" || !camera.stream(); } });

let pc = null; // the current WHIP connection
let lesson = null; // {location, videoId, streamId, title}
let lessonClock = null;
let state = "setup"; // setup | starting | live | reconnecting | ending | ended
let presence = null;
let disconnectedTimer = 0;
let lastSent = null; // {bytes, at} for the bitrate
let inflight = null; // a reconnecting offer on its way: ending waits for it (no POST racing the DELETE)
let feedback = null; // the lesson's annotations (a store), for their count
const metrics = { reconnects: 0 };

// --- the page's states -------------------------------------------------------------------------

function setState(next) {
  state = next;
  root.dataset.state = next;
  const live = next === "live" || next === "reconnecting" || next === "ending";
  form.hidden = live || next === "ended";
  $("on-air").hidden = !live;
  $("ended").hidden = next !== "ended";
  $("live-pill").hidden = !live;
  $("preview-pill").hidden = next !== "setup" && next !== "starting";
  $("viewer-pill").hidden = !live;
  $("conn-pill").hidden = !live;
  $("overlay").hidden = next !== "reconnecting" && next !== "ended";
  $("overlay").dataset.kind = next;
  if (next === "reconnecting") $("overlay-title").textContent = "Reconnecting…";
  goButton.disabled = next !== "setup" || !camera.stream();
  $("go-text").textContent = next === "starting" ? "Connecting…" : "Go live";
  act("end").disabled = next === "ending";
  $("heading").textContent = live ? lesson?.title || "Live lesson" : next === "ended" ? "Lesson ended" : "Go live";
  $("lede").textContent = live
    ? "You are live. Viewers see and hear what your camera and microphone pick up; their comments land at the lesson's moments."
    : next === "ended" ? "The stream is over; the recording is on its way to your lessons." : setupLede;
  $("on-air-state").textContent = next === "reconnecting" ? "Reconnecting" : "On air";
  $("on-air-state").dataset.state = next;
  if (next === "reconnecting") showConnection("reconnecting");
}

function whipUrl() {
  const data = new FormData(form);
  const query = new URLSearchParams();
  for (const name of ["title", "subject", "grade"]) {
    const value = String(data.get(name) || "").trim();
    if (value) query.set(name, value);
  }
  const text = query.toString();
  return text ? `/api/live/whip?${text}` : "/api/live/whip";
}

function refusal(err) {
  if (!(err instanceof ApiError)) return `Could not reach Loupe (${err?.message || err}). Check the network and try again.`;
  if (err.status === 409) return "You are already live from another window or device. End that lesson first.";
  if (err.status === 503 || err.status === 502) return "The live service is not available right now. Try again in a moment, or upload the lesson afterwards.";
  return err.message;
}

// --- WHIP ----------------------------------------------------------------------------------------

async function publish() {
  const next = new RTCPeerConnection({ iceServers });
  const local = camera.stream();
  const streams = [local];
  const video = local.getVideoTracks()[0];
  const audio = local.getAudioTracks()[0];
  if (video) next.addTransceiver(video, { direction: "sendonly", streams, sendEncodings: [{ maxBitrate: camera.quality().maxBitrate }] });
  if (audio) next.addTransceiver(audio, { direction: "sendonly", streams });
  next.addEventListener("connectionstatechange", () => onConnection(next));
  let response;
  try {
    response = await negotiate(next, whipUrl());
  } catch (err) {
    next.close();
    throw err;
  }
  pc = next;
  return {
    location: response.headers.get("Location"),
    videoId: Number(response.headers.get("Loupe-Video-Id")),
    streamId: Number(response.headers.get("Loupe-Stream-Id")),
  };
}

async function goLive(event) {
  event?.preventDefault();
  if (state !== "setup" || !camera.stream()) return;
  $("setup-error").hidden = true;
  setState("starting");
  const asked = performance.now();
  let started;
  try {
    started = await publish();
  } catch (err) {
    setState("setup");
    const box = $("setup-error");
    box.textContent = refusal(err);
    box.hidden = false;
    return;
  }
  metrics.whipMs = performance.now() - asked;
  const title = String(new FormData(form).get("title") || "").trim();
  lesson = { ...started, title: title || "Live lesson" };
  lessonClock = createLessonClock(lesson.streamId);
  setState("live");
  showConnection(pc.connectionState);
  $("lesson-link").href = `/videos/${lesson.videoId}`;
  await onLesson();
  announce("You are live.");
}

// Once the lesson is known (at the start, or a new one after a long drop): its clock, its room.
async function onLesson() {
  const data = await lessonClock.sync().catch(() => null);
  if (data?.title) {
    lesson.title = data.title;
    $("heading").textContent = data.title;
  }
  $("lesson-title").textContent = lesson.title;
  document.title = `Live: ${lesson.title} · Loupe`;
  const box = $("presence");
  presence = createPresence({ box, socket, videoId: lesson.videoId, me });
  await joinVideo(lesson.videoId);
  feedback = createAnnotationStore({ videoId: lesson.videoId, me, onUpsert: showFeedbackCount, onRemove: showFeedbackCount });
  feedback.listen(socket);
  await feedback.sync();
  showFeedbackCount();
  refreshWatchers();
}

function onConnection(which) {
  if (which !== pc) return;
  const s = which.connectionState;
  if (state === "live") showConnection(s);
  clearTimeout(disconnectedTimer);
  if (s === "failed") reconnect();
  else if (s === "disconnected") {
    disconnectedTimer = setTimeout(() => {
      if (which === pc && which.connectionState === "disconnected") reconnect();
    }, DISCONNECTED_MS);
  }
}

// Post the offer again until the gateway takes it: within the grace period the same lesson
// continues; a 409 means the gateway has not yet noticed the old connection is gone.
async function reconnect() {
  if (state !== "live") return;
  metrics.reconnects += 1;
  setState("reconnecting");
  announce("The connection dropped. Reconnecting…");
  const old = pc;
  pc = null;
  old?.close();
  let wait = 1000;
  for (let attempt = 1; state === "reconnecting"; attempt += 1) {
    $("overlay-detail").textContent = attempt === 1
      ? "The lesson continues as soon as the connection is back."
      : `Still trying (attempt ${attempt})… The lesson continues as soon as the connection is back.`;
    try {
      inflight = publish();
      const again = await inflight.finally(() => {
        inflight = null;
      });
      if (state !== "reconnecting") {
        // Ended meanwhile: the DELETE that follows must end the lesson this offer joined.
        if (state === "ending") lesson = { ...lesson, ...again };
        pc?.close();
        pc = null;
        return;
      }
      const sameLesson = again.videoId === lesson.videoId;
      lesson = { ...lesson, ...again };
      setState("live");
      showConnection(pc.connectionState);
      if (sameLesson) {
        await lessonClock.sync().catch(() => {});
        announce("Reconnected. The lesson continues.");
      } else {
        // Away longer than the grace period: the earlier part is its own lesson now.
        lessonClock = createLessonClock(lesson.streamId);
        $("lesson-link").href = `/videos/${lesson.videoId}`;
        await onLesson();
        $("resume").textContent = "The connection was away too long, so the first part was saved as its own lesson. This is a new live lesson.";
        $("resume").hidden = false;
        announce("Reconnected as a new lesson.");
      }
      return;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        $("overlay-detail").textContent = "Waiting for the server to let go of the old connection…";
      }
      await delay(wait);
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }
}

async function endLesson() {
  if (!lesson || state === "ending" || state === "ended") return;
  const before = state;
  setState("ending");
  $("end-error").hidden = true;
  await inflight?.catch(() => {});
  let ended;
  try {
    const response = await apiRaw("DELETE", lesson.location);
    ended = await response.json().catch(() => null);
  } catch (err) {
    setState(before === "reconnecting" ? "reconnecting" : "live");
    $("end-error").textContent = `The lesson could not be ended: ${err.message}`;
    $("end-error").hidden = false;
    return;
  }
  finish(ended?.lesson_ms);
  announce("The lesson ended. It is being processed and will appear in your lessons.");
}

function finish(lessonMs) {
  clearTimeout(disconnectedTimer);
  lessonClock?.freeze(lessonMs);
  pc?.close();
  pc = null;
  camera.stop();
  setState("ended");
  const length = clock(lessonClock?.now() ?? 0);
  $("clock").textContent = length;
  $("overlay-title").textContent = "Lesson ended";
  $("overlay-detail").textContent = `${length} recorded.`;
  $("done-detail").textContent = `The ${length} recording is being turned into a lesson video; feedback given live is already at its moment.`;
}

// --- what the teacher sees while live ----------------------------------------------------------

function showConnection(s) {
  const pill = $("conn-pill");
  const text = {
    new: "Connecting…",
    connecting: "Connecting…",
    connected: "Connected",
    disconnected: "Unstable connection…",
    failed: "Connection lost",
    reconnecting: "Reconnecting…",
  }[s] || s;
  pill.dataset.quality = s === "connected" ? "good" : s === "disconnected" ? "fair" : s === "connecting" || s === "new" ? "unknown" : "bad";
  $("conn-text").textContent = text;
  if (s !== "connected") $("conn-line").textContent = text;
}

async function measure() {
  if (state !== "live" || !pc || pc.connectionState !== "connected") return;
  const out = await videoStats(pc, "outbound-rtp").catch(() => null);
  if (!out) return;
  const now = performance.now();
  let kbps = null;
  if (lastSent && out.bytesSent >= lastSent.bytes) kbps = ((out.bytesSent - lastSent.bytes) * 8) / (now - lastSent.at);
  lastSent = { bytes: out.bytesSent, at: now };
  const parts = [];
  if (out.frameWidth) parts.push(`${out.frameWidth}×${out.frameHeight}`);
  if (out.framesPerSecond) parts.push(`${Math.round(out.framesPerSecond)} fps`);
  if (kbps != null) parts.push(kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mb/s` : `${Math.round(kbps)} kb/s`);
  const limited = out.qualityLimitationReason && out.qualityLimitationReason !== "none" ? ` · limited by ${out.qualityLimitationReason}` : "";
  $("conn-line").textContent = `Connected · sending ${parts.join(" · ")}${limited}`;
  $("conn-pill").dataset.quality = limited ? "fair" : "good";
  Object.assign(metrics, { width: out.frameWidth, height: out.frameHeight, fps: out.framesPerSecond, kbps });
}

function refreshWatchers() {
  const count = presence ? presence.people().length : 0;
  $("nobody").hidden = count > 0;
  $("viewer-count").textContent = String(count);
}

function showFeedbackCount() {
  const n = feedback?.size ?? 0;
  $("feedback-count").textContent = n === 0 ? "No comments yet" : `${n} comment${n === 1 ? "" : "s"} so far, at their moments in the lesson`;
}

function tick() {
  if (lessonClock && (state === "live" || state === "reconnecting" || state === "ending")) {
    $("clock").textContent = clock(lessonClock.now());
  }
}

// --- events ----------------------------------------------------------------------------------

socket.on("connect", () => {
  if (lesson && state !== "ended") joinVideo(lesson.videoId);
});
// After presence.js has taken the event in (its handlers are added later, with the lesson).
for (const name of ["presence.joined", "presence.here", "presence.left", "disconnect"]) {
  socket.on(name, () => queueMicrotask(refreshWatchers));
}
socket.on("live.status", (msg) => {
  if (!lesson || msg.video_id !== lesson.videoId) return;
  // The gateway saw our connection go before the browser did: do not wait for it. An event about
  // a connection we have already replaced comes late, while the new one is up: ignore that.
  const up = ["new", "connecting", "connected"].includes(pc?.connectionState);
  if (msg.status === "interrupted" && state === "live" && !up) reconnect();
  if (msg.status === "ended" && (state === "live" || state === "reconnecting")) {
    finish();
    lessonClock?.sync(1).then(() => finish()).catch(() => {});
    announce("The lesson was ended.");
  }
});
for (const name of ["video.status", "video.progress"]) {
  socket.on(name, (msg) => {
    if (!lesson || msg.video_id !== lesson.videoId || state !== "ended") return;
    if (msg.status === "ready") {
      $("done-title").textContent = "Ready — your lesson is waiting";
      $("done-detail").textContent = "The recording is processed. Open it to see the feedback at its moments.";
    } else if (msg.status === "failed") {
      $("done-title").textContent = "The recording could not be processed";
      $("done-detail").textContent = msg.failure_reason || "Open the lesson for details.";
    }
  });
}

form.addEventListener("submit", goLive);
const confirmEnd = $("confirm-end");
act("end").addEventListener("click", () => confirmEnd.showModal());
confirmEnd.addEventListener("close", () => {
  if (confirmEnd.returnValue === "end") endLesson();
});
for (const button of root.querySelectorAll('[data-action="copy"]')) {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      announce("Copied.");
      button.textContent = "Copied";
    } catch {
      announce("Press Ctrl+C to copy the selected text.");
    }
  });
}
window.addEventListener("beforeunload", (event) => {
  // Leaving does not end the lesson (it resumes within the grace period) but would cut it.
  if (state === "live" || state === "reconnecting") event.preventDefault();
});

// A lesson of ours still open (this page reloaded, or streaming from OBS): say so.
async function checkOpenLesson() {
  try {
    const streams = await api("GET", "/api/live");
    const mine = streams.find((s) => s.owner.id === me.id);
    if (!mine || state !== "setup") return;
    const box = $("resume");
    box.textContent = mine.status === "interrupted"
      ? `Your lesson “${mine.title}” was interrupted. Go live again soon to continue it — the same lesson goes on.`
      : `You are live with “${mine.title}” from another window or device. End it there before going live here.`;
    box.hidden = false;
    if (mine.title && !form.elements.title.value) form.elements.title.value = mine.title;
  } catch {
    // Only a hint.
  }
}

setInterval(tick, 250);
setInterval(measure, 2000);
window.loupeLive = {
  get state() { return state; },
  get lesson() { return lesson; },
  get pc() { return pc; },
  get clock() { return lessonClock; },
  metrics,
  // For tests: cut the connection as a dropped network would (no DELETE).
  drop() {
    reconnect();
  },
};
setState("setup");
camera.open();
checkOpenLesson();

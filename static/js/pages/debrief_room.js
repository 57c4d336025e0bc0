// The live debrief room: a lobby to check camera and microphone, then the call (call.js) beside
// the lesson watched together (lib/lesson.js, kept in step by sync.js), the shared
// notes and action steps (debrief_notes.js) and the opt-in recording (debrief_recording.js).
import { api, announce } from "../lib/api.js";
import { connect } from "../lib/realtime.js";
import { mountLesson } from "../lib/lesson.js";
import { createCall, createLocalMedia } from "../lib/call.js";
import { createLevelMeter, fillDeviceSelects } from "../lib/devices.js";
import { createSync } from "../lib/sync.js";
import { createNotes } from "../lib/debrief_notes.js";
import { createRecording } from "../lib/debrief_recording.js";
import { clock, localTime } from "../lib/timecode.js";
import { createTiles, setFace } from "../lib/debrief_tiles.js";

function elapsed(fromIso) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(fromIso)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function start(room) {
  const $ = (role, scope = document) => scope.querySelector(`[data-role="${role}"]`);
  const debriefId = Number(room.dataset.debriefId);
  const me = { id: Number(room.dataset.meId), name: room.dataset.meName };
  const isHost = room.dataset.host === "true";
  const hostName = room.dataset.hostName;
  const socket = connect();
  const local = createLocalMedia();
  const people = new Map(); // user id -> name, of everyone invited
  let debrief = null;
  let iceServers = [];
  let call = null;
  let sync = null;
  let phase = "lobby"; // lobby, joining, in, left, ended
  let startedAt = room.dataset.startedAt || null;
  const metrics = { joinClickedAt: null, joinedAt: null, firstFrames: [] };

  // --- the lesson, watched together ---------------------------------------------------------

  const lesson = room.dataset.lesson === "true" ? mountLesson({ socket, onIntent: (s) => sync?.onIntent(s) }) : null;
  const syncPill = $("sync-pill");
  const syncText = $("sync-text");
  let syncNoticeUntil = 0;
  let announceTimer = 0;
  if (lesson) {
    sync = createSync({
      socket,
      debriefId,
      player: lesson.player,
      video: lesson.video,
      onApplied: (state, previous) => {
        const who = people.get(state.by) || "Someone";
        const at = clock(state.position * 1000);
        let text = `${who} moved to ${at}`;
        if (previous && previous.rate !== state.rate) text = `${who} set the speed to ${state.rate}×`;
        else if (state.playing && !previous?.playing) text = `${who} played from ${at}`;
        else if (!state.playing && previous?.playing) text = `${who} paused at ${at}`;
        else if (state.playing) text = `${who} jumped to ${at}`;
        syncText.textContent = text;
        syncNoticeUntil = Date.now() + 3000;
        // A scrub sends several in a row: say only where it ended.
        clearTimeout(announceTimer);
        announceTimer = setTimeout(() => announce(text), 600);
      },
    });
  }
  const player = lesson?.player ?? { nowMs: () => 0, onTick: () => {}, seek: () => {} };

  // --- people and the header ------------------------------------------------------------------

  function setPeople(list) {
    people.clear();
    for (const p of list) people.set(p.id, p.name);
  }

  for (const el of room.querySelectorAll("[data-face-id]")) setFace(el, el.dataset.faceId, el.dataset.faceName);

  const livePill = $("live-pill");
  const elapsedText = $("elapsed");
  setInterval(() => {
    if (phase === "in" && startedAt) elapsedText.textContent = `Live · ${elapsed(startedAt)}`;
    if (sync && phase === "in" && Date.now() > syncNoticeUntil) {
      const drift = sync.metrics.drift;
      syncText.textContent = drift == null || Math.abs(drift) < 0.15 ? "Watching together" : "Catching up…";
    }
  }, 1000);

  function setPhase(next) {
    phase = next;
    room.dataset.state = next;
    $("lobby").hidden = next !== "lobby" && next !== "joining";
    room.querySelector(".room-main").hidden = next !== "in";
    $("callbar").hidden = next !== "in";
    $("room-message").hidden = next !== "left" && next !== "ended";
    livePill.hidden = next !== "in";
    syncPill.hidden = next !== "in" || !lesson;
  }

  // --- the lobby: preview, devices, level -------------------------------------------------

  const preview = $("preview");
  const previewOff = $("preview-off");
  const problemBox = $("media-problem");
  const joinButton = room.querySelector('[data-action="join"]');
  const joinError = $("join-error");
  const joinHint = $("join-hint");
  const level = $("level");
  setFace($("preview-face"), me.id, me.name);

  function showProblem(problem) {
    problemBox.hidden = !problem;
    problemBox.textContent = problem?.text ?? "";
  }

  function renderPreview() {
    const track = local.camera();
    const s = local.state();
    if (track && s.video) {
      if (preview.srcObject?.getVideoTracks()[0] !== track) preview.srcObject = new MediaStream([track]);
      preview.hidden = false;
      previewOff.hidden = true;
    } else {
      preview.srcObject = null;
      preview.hidden = true;
      previewOff.hidden = false;
      $("preview-off-text").textContent = local.camera() || !local.problem() ? "Your camera is off" : "No camera";
    }
    const micButton = room.querySelector('[data-action="lobby-mic"]');
    const camButton = room.querySelector('[data-action="lobby-camera"]');
    micButton.setAttribute("aria-pressed", String(s.audio));
    micButton.setAttribute("aria-label", s.audio ? "Microphone on: turn it off" : "Microphone off: turn it on");
    micButton.title = s.audio ? "Turn the microphone off" : "Turn the microphone on";
    camButton.setAttribute("aria-pressed", String(s.video));
    camButton.setAttribute("aria-label", s.video ? "Camera on: turn it off" : "Camera off: turn it on");
    camButton.title = s.video ? "Turn the camera off" : "Turn the camera on";
    const parts = [s.audio ? "microphone on" : "microphone off", s.video ? "camera on" : "camera off"];
    joinHint.textContent = `You join with your ${parts.join(" and ")}.`;
    level.hidden = !s.audio;
  }

  function fillDevices(cameraSelect, micSelect) {
    return fillDeviceSelects({ cameraSelect, micSelect, ...local.ids() });
  }

  function bindDeviceSelects(cameraSelect, micSelect, errorBox) {
    const run = async (fn) => {
      try {
        await fn();
        if (errorBox) errorBox.hidden = true;
      } catch (err) {
        const text = `That device could not start (${err.message || err.name}).`;
        if (errorBox) {
          errorBox.textContent = text;
          errorBox.hidden = false;
        } else showProblem({ text });
      }
    };
    cameraSelect.addEventListener("change", () => run(() => local.useCamera(cameraSelect.value)));
    micSelect.addEventListener("change", () => run(() => local.useMic(micSelect.value)));
  }

  // The microphone's level, so people see it hears them before they go in.
  function levelMeter() {
    const meter = createLevelMeter(level.querySelector(".level-bar > span"));
    local.onChange(() => meter.follow(local.audioTrack()));
    meter.follow(local.audioTrack());
    return meter;
  }

  room.querySelector('[data-action="lobby-mic"]').addEventListener("click", () => local.setAudio(!local.state().audio));
  room.querySelector('[data-action="lobby-camera"]').addEventListener("click", () => local.setVideo(!local.state().video));
  bindDeviceSelects($("camera-select"), $("mic-select"), null);
  local.onChange(() => {
    renderPreview();
    showProblem(local.problem());
    renderSelf();
    renderControls();
  });

  // --- tiles ------------------------------------------------------------------------------------

  const tiles = createTiles({ box: $("tiles"), me, local, people, peers: () => (call ? call.peers() : []), metrics });
  const { renderSelf, renderPeer } = tiles;
  const layoutTiles = tiles.layout;

  // --- call controls ----------------------------------------------------------------------------

  const micButton = room.querySelector('[data-action="mic"]');
  const cameraButton = room.querySelector('[data-action="camera"]');
  const screenButton = room.querySelector('[data-action="screen"]');

  function renderControls() {
    const s = local.state();
    micButton.dataset.on = String(s.audio);
    micButton.setAttribute("aria-label", s.audio ? "Mute your microphone" : "Unmute your microphone");
    $("mic-label").textContent = s.audio ? "Mute" : "Unmute";
    cameraButton.dataset.on = String(s.video);
    cameraButton.setAttribute("aria-label", s.video ? "Turn your camera off" : "Turn your camera on");
    $("camera-label").textContent = s.video ? "Stop video" : "Start video";
    screenButton.dataset.on = String(s.screen);
    screenButton.setAttribute("aria-pressed", String(s.screen));
    screenButton.setAttribute("aria-label", s.screen ? "Stop sharing your screen" : "Share your screen");
    $("screen-label").textContent = s.screen ? "Stop sharing" : "Share";
    screenButton.hidden = !navigator.mediaDevices?.getDisplayMedia;
  }

  micButton.addEventListener("click", async () => {
    await local.setAudio(!local.state().audio);
    announce(local.state().audio ? "Microphone on." : "Microphone off.");
  });
  cameraButton.addEventListener("click", async () => {
    await local.setVideo(!local.state().video);
    announce(local.state().video ? "Camera on." : "Camera off.");
  });
  screenButton.addEventListener("click", async () => {
    if (local.state().screen) {
      local.stopSharing();
      announce("You stopped sharing your screen.");
      return;
    }
    try {
      await local.shareScreen();
      announce("You are sharing your screen.");
    } catch (err) {
      if (err.name !== "NotAllowedError") announce(`Screen sharing did not start: ${err.message}`);
    }
  });

  const devicesDialog = $("devices");
  bindDeviceSelects($("camera-select-room"), $("mic-select-room"), $("devices-error"));
  room.querySelector('[data-action="devices"]').addEventListener("click", async () => {
    await fillDevices($("camera-select-room"), $("mic-select-room"));
    devicesDialog.showModal();
  });

  room.querySelector('[data-action="leave"]').addEventListener("click", () => {
    socket.emit("debrief.leave", { debrief_id: debriefId });
    hangUp();
    showMessage("You left the debrief", "The others can carry on. You can come back while it is open.", "Rejoin", room.ownerDocument.location.pathname);
    setPhase("left");
  });

  const endDialog = $("end-confirm");
  room.querySelector('[data-action="end"]')?.addEventListener("click", () => {
    endDialog.returnValue = "";
    endDialog.showModal();
  });
  endDialog.addEventListener("close", async () => {
    if (endDialog.returnValue !== "ok") return;
    try {
      await api("POST", `/api/debriefs/${debriefId}/end`);
    } catch (err) {
      announce(err.message);
    }
  });

  function showMessage(title, text, primary, href) {
    $("message-title").textContent = title;
    $("message-text").textContent = text;
    const link = $("message-primary");
    link.textContent = primary;
    link.href = href;
  }

  function hangUp() {
    call?.stop();
    sync?.stop();
    recording.leave();
    local.stop();
    lesson?.video.pause();
  }

  // --- tabs -------------------------------------------------------------------------------------

  const tabs = [...room.querySelectorAll('[role="tab"]')];
  function selectTab(tab, focus = false) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      room.querySelector(`[data-panel="${t.dataset.tab}"]`).hidden = !on;
    }
    if (focus) tab.focus();
  }
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length], true);
    });
  }

  // --- notes and recording --------------------------------------------------------------------

  const notesCount = $("notes-count");
  const notes = createNotes({
    root: $("notes-panel"),
    debriefId,
    me,
    socket,
    player,
    onSeek: (seconds) => player.seek(seconds),
    onCount: (total) => { notesCount.textContent = total ? String(total) : ""; },
  });

  const recording = createRecording({
    room,
    debriefId,
    me,
    isHost,
    hostName,
    people: () => people,
    local,
    iceServers: () => iceServers,
    refreshSenders: (pc) => call?.refreshSenders(pc),
  });
  socket.on("debrief.recording", (msg) => recording.update(msg));

  function applyDebrief(data) {
    debrief = data;
    const eyebrow = $("lobby-status");
    if (data.status === "live") eyebrow.textContent = "Live now: the debrief has started";
    else if (data.scheduled_for) eyebrow.textContent = `Scheduled for ${localTime(data.scheduled_for)}`;
    else eyebrow.textContent = "Live debrief";
    eyebrow.dataset.status = data.status;
    setPeople(data.participants);
    startedAt = data.started_at;
    notes.load(data.notes);
    recording.update(data.recording);
    layoutTiles();
  }

  socket.on("debrief.ended", (msg) => {
    if (msg.debrief_id !== debriefId || phase === "ended") return;
    hangUp();
    showMessage(
      "The debrief has ended",
      `${isHost ? "You" : hostName} ended it for everyone. The notes and action steps are kept in the summary.`,
      "See the summary",
      window.location.pathname,
    );
    setPhase("ended");
    announce("The debrief has ended.");
  });

  // Access to the lesson ended (a share revoked, the lesson deleted): the server has taken us
  // out of the room. Hang up and stop the lesson; nothing of it stays on screen.
  socket.on("debrief.removed", (msg) => {
    if (msg.debrief_id !== debriefId || phase === "ended") return;
    hangUp();
    if (lesson) {
      lesson.video.pause();
      lesson.video.removeAttribute("src");
      lesson.video.load();
    }
    room.querySelector(".room-main").replaceChildren();
    showMessage(
      "You can no longer take part in this debrief",
      "Your access to the lesson it discusses has ended.",
      "Home",
      "/",
    );
    setPhase("ended");
    announce("You can no longer take part in this debrief.");
  });

  // --- joining ----------------------------------------------------------------------------------

  let meter = null;

  async function enter() {
    let answer;
    try {
      answer = await socket.timeout(10000).emitWithAck("debrief.join", { debrief_id: debriefId });
    } catch {
      answer = { ok: false, error: "The server did not answer. Check your connection and try again." };
    }
    if (!answer?.ok) return answer;
    call.start(answer.sid);
    if (phase !== "in") {
      setPhase("in");
      meter?.stop();
      meter = null;
    }
    metrics.joinedAt = performance.now();
    await sync?.start(answer.playback);
    recording.enter();
    // Whatever changed while we were away (notes, recording, who started it).
    try {
      applyDebrief(await api("GET", `/api/debriefs/${debriefId}`));
    } catch {
      layoutTiles();
    }
    return answer;
  }

  async function join() {
    metrics.joinClickedAt = performance.now();
    joinButton.disabled = true;
    joinError.hidden = true;
    setPhase("joining");
    joinButton.textContent = "Joining…";
    try {
      const ice = await api("GET", `/api/debriefs/${debriefId}/ice`);
      iceServers = ice.ice_servers;
      call ||= createCall({
        socket,
        debriefId,
        iceServers,
        freshIceServers: async () => {
          iceServers = (await api("GET", `/api/debriefs/${debriefId}/ice`)).ice_servers;
          return iceServers;
        },
        local,
        events: {
          onPeerAdded: () => layoutTiles(),
          onPeerRemoved: (peer) => {
            layoutTiles();
            if (phase === "in") announce(`${peer.user?.name || "Someone"} left.`);
          },
          onPeerMedia: (peer) => renderPeer(peer),
          onPeerChanged: (peer) => renderPeer(peer),
        },
      });
      const answer = await enter();
      if (!answer?.ok) throw new Error(answer?.error || "You could not join.");
      announce("You joined the debrief.");
      if (lesson) room.querySelector('[data-role="player-stage"]')?.focus({ preventScroll: true });
    } catch (err) {
      setPhase("lobby");
      joinError.textContent = err.message;
      joinError.hidden = false;
      joinButton.disabled = false;
      joinButton.textContent = "Join the debrief";
    }
  }

  joinButton.addEventListener("click", join);

  socket.on("debrief.peer_joined", (msg) => {
    if (msg.debrief_id === debriefId && phase === "in") announce(`${msg.user.name} joined.`);
  });
  socket.on("disconnect", () => {
    if (phase !== "in") return;
    call?.reset();
    layoutTiles();
    syncText.textContent = "Reconnecting…";
  });
  // Back after a network drop: a new socket id, so enter again (the others offer afresh).
  socket.on("connect", () => {
    if (phase === "in") enter();
  });

  // --- start: the lobby ------------------------------------------------------------------------

  setPhase("lobby");
  renderControls();
  (async () => {
    try {
      applyDebrief(await api("GET", `/api/debriefs/${debriefId}`));
    } catch (err) {
      joinError.textContent = err.message;
      joinError.hidden = false;
    }
    const problem = await local.start();
    showProblem(problem);
    renderPreview();
    await fillDevices($("camera-select"), $("mic-select"));
    meter = levelMeter();
    navigator.mediaDevices?.addEventListener?.("devicechange", () => fillDevices($("camera-select"), $("mic-select")));
    room.dataset.media = "ready";
  })();

  // Hooks for people debugging the room and for the browser tests.
  window.loupeRoom = {
    local,
    sync,
    notes,
    recording,
    lesson,
    metrics,
    get call() { return call; },
    get phase() { return phase; },
    get debrief() { return debrief; },
  };
}

const room = document.querySelector('[data-role="room"]');
if (room) start(room);

// A debrief's call: the local camera and microphone, and a mesh of RTCPeerConnections (one per
// other member, at most three) negotiated through Socket.IO with the "perfect negotiation"
// pattern. The member already in the room offers to a newcomer (see app/debriefs/events.py);
// every connection carries one audio and one video transceiver plus a small data channel for
// each side's state (muted, camera off, sharing), so turning the camera off, changing a device
// or sharing the screen is a replaceTrack, and an ICE restart renegotiates without glare.

import { mediaProblem } from "./devices.js";

const QUALITY_EVERY_MS = 2000;

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- the local camera and microphone ---------------------------------------------------------

// In a debrief one can take part without a camera or microphone.
function inCall(problem) {
  return { ...problem, text: `${problem.text} You can still join and watch, listen and write.` };
}

export function createLocalMedia() {
  const listeners = new Set();
  const state = { audio: true, video: true, screen: false };
  let mic = null; // MediaStreamTrack
  let camera = null;
  let screen = null;
  let cameraId = "";
  let micId = "";
  let problem = null;

  const emit = () => { for (const fn of listeners) fn(); };

  function constraint(id) {
    return id ? { deviceId: { exact: id } } : true;
  }

  async function openCamera() {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: cameraId ? { deviceId: { exact: cameraId }, width: { ideal: 640 }, height: { ideal: 480 } } : { width: { ideal: 640 }, height: { ideal: 480 } },
    });
    return stream.getVideoTracks()[0];
  }

  async function openMic() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: micId ? { deviceId: { exact: micId }, echoCancellation: true, noiseSuppression: true } : { echoCancellation: true, noiseSuppression: true },
    });
    return stream.getAudioTracks()[0];
  }

  // Ask once for both (one permission prompt); fall back to each alone.
  async function start() {
    problem = null;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: constraint(micId), video: constraint(cameraId) });
      mic = stream.getAudioTracks()[0] || null;
      camera = stream.getVideoTracks()[0] || null;
    } catch (err) {
      problem = inCall(mediaProblem(err));
      if (problem.kind !== "denied") {
        try { mic = await openMic(); } catch { mic = null; }
        try { camera = await openCamera(); } catch { camera = null; }
        if (mic || camera) problem = null;
      }
    }
    if (mic) mic.enabled = state.audio;
    if (!camera) state.video = false;
    if (camera) cameraId = camera.getSettings().deviceId || cameraId;
    if (mic) micId = mic.getSettings().deviceId || micId;
    emit();
    return problem;
  }

  async function setAudio(on) {
    state.audio = on;
    if (on && !mic) {
      try { mic = await openMic(); } catch (err) { state.audio = false; problem = mediaProblem(err); }
    }
    if (mic) mic.enabled = state.audio;
    emit();
  }

  // Camera off stops the camera (its light goes out); on opens it again.
  async function setVideo(on) {
    if (on && !camera) {
      try {
        camera = await openCamera();
        problem = null;
      } catch (err) {
        problem = mediaProblem(err);
        on = false;
      }
    }
    state.video = on;
    if (!on && camera) {
      camera.stop();
      camera = null;
    }
    emit();
  }

  async function useCamera(id) {
    cameraId = id;
    if (!state.video) { emit(); return; }
    const old = camera;
    camera = await openCamera();
    old?.stop();
    emit();
  }

  async function useMic(id) {
    micId = id;
    const old = mic;
    mic = await openMic();
    mic.enabled = state.audio;
    old?.stop();
    emit();
  }

  async function shareScreen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    screen = stream.getVideoTracks()[0];
    screen.contentHint = "detail";
    state.screen = true;
    // The browser's own "Stop sharing" bar ends the track: back to the camera.
    screen.addEventListener("ended", () => stopSharing(), { once: true });
    emit();
  }

  function stopSharing() {
    if (!screen) return;
    screen.stop();
    screen = null;
    state.screen = false;
    emit();
  }

  function stop() {
    for (const t of [mic, camera, screen]) t?.stop();
    mic = camera = screen = null;
  }

  return {
    start,
    setAudio,
    setVideo,
    useCamera,
    useMic,
    shareScreen,
    stopSharing,
    stop,
    state: () => ({ ...state, audio: state.audio && Boolean(mic), video: state.video && Boolean(camera) }),
    // What the others receive: the screen while sharing, else the camera (null when off).
    videoTrack: () => screen || (state.video ? camera : null),
    audioTrack: () => mic,
    camera: () => camera,
    problem: () => problem,
    ids: () => ({ cameraId, micId }),
    onChange: (fn) => { listeners.add(fn); },
  };
}

// --- connection quality --------------------------------------------------------------------

// From one getStats() to the next: round-trip time, packet loss and frames per second (a camera's
// only: a shared screen sends few frames on purpose).
export function grade({ rttMs, lossPct, fps, expectVideo, screen = false }) {
  const judgeFps = expectVideo && !screen && fps != null;
  const poorVideo = judgeFps && fps < 6;
  const fairVideo = judgeFps && fps < 12;
  if ((rttMs ?? 0) > 400 || (lossPct ?? 0) > 8 || poorVideo) return "poor";
  if ((rttMs ?? 0) > 150 || (lossPct ?? 0) > 2 || fairVideo) return "fair";
  return "good";
}

async function measure(peer) {
  const report = await peer.pc.getStats();
  let rttMs = null;
  let received = 0;
  let lost = 0;
  let fps = null;
  let framesDecoded = 0;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && s.currentRoundTripTime != null) {
      rttMs = s.currentRoundTripTime * 1000;
    }
    if (s.type === "inbound-rtp") {
      received += s.packetsReceived || 0;
      lost += Math.max(0, s.packetsLost || 0);
      if (s.kind === "video") {
        fps = s.framesPerSecond ?? fps ?? 0;
        framesDecoded += s.framesDecoded || 0;
      }
    }
  });
  const previous = peer.counters || { received: 0, lost: 0 };
  const dr = received - previous.received;
  const dl = lost - previous.lost;
  peer.counters = { received, lost };
  const lossPct = dr + dl > 0 ? (dl / (dr + dl)) * 100 : 0;
  const expectVideo = peer.state.video || peer.state.screen;
  const quality = { rttMs, lossPct, fps, framesDecoded, expectVideo, screen: peer.state.screen };
  quality.level = grade(quality);
  return quality;
}

// --- the mesh ---------------------------------------------------------------------------------

export function createCall({ socket, debriefId, iceServers, freshIceServers = null, local, events }) {
  const peers = new Map(); // socket id -> peer
  let mySid = null;
  let qualityTimer = 0;

  const emitSignal = (to, payload) => socket.emit("debrief.signal", { debrief_id: debriefId, to, ...payload });
  const plain = (d) => ({ type: d.type, sdp: d.sdp });

  function sendState(peer) {
    if (peer.channel?.readyState === "open") peer.channel.send(JSON.stringify(local.state()));
  }

  function videoTransceiver(pc) {
    return pc.getTransceivers().find((t) => t.receiver.track?.kind === "video" && !t.stopped);
  }
  function audioTransceiver(pc) {
    return pc.getTransceivers().find((t) => t.receiver.track?.kind === "audio" && !t.stopped);
  }

  // Send whatever the local side has now: a track, or nothing (the camera is off).
  function refreshSenders(pc) {
    const a = audioTransceiver(pc);
    const v = videoTransceiver(pc);
    const jobs = [];
    if (a && a.sender.track !== local.audioTrack()) jobs.push(a.sender.replaceTrack(local.audioTrack()));
    if (v && v.sender.track !== local.videoTrack()) jobs.push(v.sender.replaceTrack(local.videoTrack()));
    return Promise.all(jobs).catch((err) => console.warn("replaceTrack failed", err));
  }

  function openChannel(peer) {
    // Negotiated on both sides with the same id: no extra round of signaling.
    const channel = peer.pc.createDataChannel("state", { negotiated: true, id: 0 });
    channel.addEventListener("open", () => sendState(peer));
    channel.addEventListener("message", (event) => {
      try {
        const s = JSON.parse(event.data);
        peer.state = { audio: Boolean(s.audio), video: Boolean(s.video), screen: Boolean(s.screen) };
        events.onPeerChanged?.(peer);
      } catch {
        // Not ours: ignore.
      }
    });
    peer.channel = channel;
  }

  function makePeer(sid, user) {
    const pc = new RTCPeerConnection({ iceServers });
    const peer = {
      sid,
      user,
      pc,
      polite: mySid != null && mySid < sid, // both sides compare the same two ids
      makingOffer: false,
      ignoreOffer: false,
      settingAnswer: false,
      configured: false,
      queue: Promise.resolve(),
      early: [], // candidates that overtook their description (the server relays concurrently)
      stream: new MediaStream(),
      state: { audio: true, video: true, screen: false },
      quality: null,
      channel: null,
      joinedAt: performance.now(),
      firstFrameMs: null,
      connectedMs: null,
    };
    pc.addEventListener("negotiationneeded", async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        emitSignal(sid, { description: plain(pc.localDescription) });
      } catch (err) {
        console.warn("offer failed", err);
      } finally {
        peer.makingOffer = false;
      }
    });
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) emitSignal(sid, { candidate: candidate.toJSON() });
    });
    pc.addEventListener("track", ({ track }) => {
      peer.stream.addTrack(track);
      events.onPeerMedia?.(peer);
    });
    pc.addEventListener("connectionstatechange", () => {
      // A path that died (network change, NAT timeout) gets fresh candidates through a new offer.
      if (pc.connectionState === "failed") restart(pc);
      // The quality shows soon after connecting, not at the next two-second tick.
      if (pc.connectionState === "connected") {
        peer.connectedMs ??= performance.now() - peer.joinedAt;
        setTimeout(tickQuality, 600);
      }
      events.onPeerChanged?.(peer);
    });
    peers.set(sid, peer);
    events.onPeerAdded?.(peer);
    return peer;
  }

  // The member already here: send and receive audio and video, and offer.
  function offerTo(sid, user) {
    if (peers.has(sid)) return peers.get(sid);
    const peer = makePeer(sid, user);
    const streams = [new MediaStream()];
    peer.pc.addTransceiver(local.audioTrack() || "audio", { direction: "sendrecv", streams });
    peer.pc.addTransceiver(local.videoTrack() || "video", { direction: "sendrecv", streams });
    openChannel(peer);
    peer.configured = true;
    return peer;
  }

  // The newcomer: wait for the offer, then send our media on the transceivers it brought.
  function expect(sid, user) {
    const peer = peers.get(sid) || makePeer(sid, user);
    if (user && !peer.user) peer.user = user;
    return peer;
  }

  async function configureAnswer(peer) {
    if (peer.configured) return;
    peer.configured = true;
    for (const t of peer.pc.getTransceivers()) t.direction = "sendrecv";
    await refreshSenders(peer.pc);
    openChannel(peer);
  }

  async function handleSignal(peer, { description, candidate }) {
    const { pc } = peer;
    if (description) {
      const readyForOffer = !peer.makingOffer && (pc.signalingState === "stable" || peer.settingAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      peer.settingAnswer = description.type === "answer";
      await pc.setRemoteDescription(description); // a polite peer rolls its own offer back
      peer.settingAnswer = false;
      for (const early of peer.early.splice(0)) await addCandidate(peer, early);
      if (description.type === "offer") {
        await configureAnswer(peer);
        await pc.setLocalDescription();
        emitSignal(peer.sid, { description: plain(pc.localDescription) });
      }
    } else if (candidate) {
      if (!pc.remoteDescription) peer.early.push(candidate);
      else await addCandidate(peer, candidate);
    }
  }

  async function addCandidate(peer, candidate) {
    try {
      await peer.pc.addIceCandidate(candidate);
    } catch (err) {
      if (!peer.ignoreOffer) console.warn("addIceCandidate failed", err);
    }
  }

  // TURN credentials expire: ask for fresh ones, then gather anew (the next offer restarts ICE).
  async function restart(pc) {
    if (freshIceServers) {
      try {
        iceServers = await freshIceServers();
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
      } catch {
        // Keep the old servers: a host or STUN path may still do.
      }
    }
    if (pc.connectionState !== "closed") pc.restartIce();
  }

  function dropPeer(sid) {
    const peer = peers.get(sid);
    if (!peer) return;
    peers.delete(sid);
    peer.channel?.close();
    peer.pc.close();
    events.onPeerRemoved?.(peer);
  }

  async function tickQuality() {
    for (const peer of peers.values()) {
      if (peer.pc.connectionState !== "connected") continue;
      try {
        peer.quality = await measure(peer);
        events.onPeerChanged?.(peer);
      } catch {
        // The connection closed while we measured it.
      }
    }
  }

  const handlers = {
    "debrief.peer_joined": (msg) => {
      if (msg.debrief_id !== debriefId || msg.sid === mySid || mySid == null) return;
      // A reload arrives as a new socket: the old one's connection goes with its peer_left.
      socket.emit("debrief.here", { debrief_id: debriefId, to: msg.sid });
      offerTo(msg.sid, msg.user);
    },
    "debrief.peer_here": (msg) => {
      if (msg.debrief_id !== debriefId || mySid == null) return;
      expect(msg.sid, msg.user);
    },
    "debrief.signal": (msg) => {
      if (msg.debrief_id !== debriefId || mySid == null) return;
      const peer = expect(msg.from, msg.user);
      // One message at a time per peer, in arrival order.
      peer.queue = peer.queue
        .then(() => handleSignal(peer, msg))
        .catch((err) => console.warn("signal failed", err));
    },
    "debrief.peer_left": (msg) => {
      if (msg.debrief_id !== debriefId) return;
      dropPeer(msg.sid);
    },
  };

  for (const [name, fn] of Object.entries(handlers)) socket.on(name, fn);

  local.onChange(() => {
    for (const peer of peers.values()) {
      refreshSenders(peer.pc);
      sendState(peer);
    }
    events.onLocalChanged?.();
  });

  return {
    // Called with our socket id once the server let us in (again, after a reconnect).
    start(sid) {
      mySid = sid;
      clearInterval(qualityTimer);
      qualityTimer = setInterval(tickQuality, QUALITY_EVERY_MS);
    },
    // The socket dropped: every connection was negotiated for the old id.
    reset() {
      for (const sid of [...peers.keys()]) dropPeer(sid);
      mySid = null;
    },
    stop() {
      clearInterval(qualityTimer);
      for (const sid of [...peers.keys()]) dropPeer(sid);
      for (const [name, fn] of Object.entries(handlers)) socket.off(name, fn);
      mySid = null;
    },
    peers: () => [...peers.values()],
    refreshSenders,
    measure: tickQuality,
    get sid() { return mySid; },
  };
}

// --- publishing to the recording gateway -----------------------------------------------------

// One extra connection, send-only, with every ICE candidate in the offer (the gateway does not
// trickle): POST the offer, apply the answer.
export async function publishToRecorder({ post, iceServers, local }) {
  const pc = new RTCPeerConnection({ iceServers });
  const streams = [new MediaStream()];
  pc.addTransceiver(local.audioTrack() || "audio", { direction: "sendonly", streams });
  pc.addTransceiver(local.videoTrack() || "video", { direction: "sendonly", streams });
  await pc.setLocalDescription(await pc.createOffer());
  await Promise.race([
    new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    }),
    delay(5000), // a slow STUN server: send what we have
  ]);
  const answer = await post(pc.localDescription.sdp);
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  return { pc, session: answer.session };
}

// Watching the lesson together: everyone's play, pause, seek and speed go out as
// `debrief.playback`; the server stamps each with its clock and mirrors it to the others, who
// apply it at once (player.apply: no echo). While the lesson plays, each browser compares its
// position with the shared one, position + (server now - at) x rate, on a clock estimated
// NTP-style from `debrief.clock`: off by more than 0.5 s it seeks, by 0.08-0.5 s it plays 5%
// faster or slower until it is within 0.05 s.

const SEEK_OVER_S = 0.5;
const NUDGE_OVER_S = 0.08;
const NUDGE_UNTIL_S = 0.05;
const NUDGE = 0.05;
const PAUSED_FRAME_S = 0.04; // paused: show the same frame (a frame at 25-30 fps)
const CHECK_EVERY_MS = 200;
const SEND_GAP_MS = 100; // a scrub sends at most this often, then its last position
const RESYNC_CLOCK_MS = 60_000;
const CLOCK_SAMPLES = 5;

const wall = () => performance.timeOrigin + performance.now();

function call(socket, event, data, timeoutMs = 4000) {
  return socket.timeout(timeoutMs).emitWithAck(event, data);
}

export function createSync({ socket, debriefId, player, video, onApplied = null }) {
  let offsetMs = 0; // server clock - local clock
  let bestRttMs = Infinity;
  let shared = null; // the last shared state: {playing, position, rate, at, by}
  let newestServerAt = 0; // the newest state the server stamped that we know of
  let pendingIntent = null;
  let intentSeq = 0;
  let lastSend = 0;
  let sendTimer = 0;
  let lastSeekAt = 0;
  let lastPlayTry = 0;
  let nudging = 0;
  let timer = 0;
  let clockTimer = 0;
  let active = false;
  const metrics = { offsetMs: 0, rttMs: null, drift: null, sent: [], received: [], corrections: { seeks: 0, nudges: 0 } };

  const serverNow = () => (wall() + offsetMs) / 1000;

  // NTP-style: the sample with the shortest round trip bounds the error best (± rtt / 2).
  async function estimateClock(samples = CLOCK_SAMPLES) {
    let best = { rtt: Infinity, offset: offsetMs };
    for (let i = 0; i < samples; i += 1) {
      try {
        const t0 = wall();
        const answer = await call(socket, "debrief.clock", {});
        const t1 = wall();
        if (!answer?.ok) continue;
        const rtt = t1 - t0;
        if (rtt < best.rtt) best = { rtt, offset: answer.server_time * 1000 - (t0 + t1) / 2 };
      } catch {
        // A lost sample: the others are enough.
      }
    }
    if (best.rtt < Infinity) {
      offsetMs = best.offset;
      bestRttMs = best.rtt;
      Object.assign(metrics, { offsetMs, rttMs: bestRttMs });
    }
    return metrics;
  }

  function expected(state = shared) {
    if (!state) return null;
    if (!state.playing) return state.position;
    return state.position + Math.max(0, serverNow() - state.at) * state.rate;
  }

  function ready() {
    return video.readyState >= 1;
  }

  // Bring the video to the shared state: play or pause, then position (seek or nudge).
  function correct() {
    if (!active || !shared || !ready()) return;
    const duration = player.duration();
    const target = expected();
    if (!shared.playing) {
      player.setNudge(1);
      nudging = 0;
      if (!video.paused) player.apply({ playing: false });
      if (!video.seeking && Math.abs(video.currentTime - target) > PAUSED_FRAME_S) player.apply({ position: target });
      return;
    }
    if (duration && target >= duration - 0.05) return; // the lesson is over: let it end
    if (video.paused) {
      // Not playing when it should (just loaded, or the browser refused to autoplay): try again
      // now and then, seeking only if far off, so a refusal does not turn into endless seeks.
      if (performance.now() - lastPlayTry < 1000) return;
      lastPlayTry = performance.now();
      const far = Math.abs(video.currentTime - target) > SEEK_OVER_S;
      player.apply({ playing: true, position: far ? target : undefined, rate: shared.rate });
      return;
    }
    if (video.seeking || video.readyState < 3) return; // still loading: measuring now would mislead
    const drift = video.currentTime - target;
    metrics.drift = drift;
    const size = Math.abs(drift);
    if (size > SEEK_OVER_S) {
      player.setNudge(1);
      nudging = 0;
      if (performance.now() - lastSeekAt > 1000) {
        lastSeekAt = performance.now();
        metrics.corrections.seeks += 1;
        player.apply({ position: target });
      }
    } else if (size > NUDGE_OVER_S || (nudging && size > NUDGE_UNTIL_S)) {
      const direction = drift > 0 ? -1 : 1; // ahead: slower
      if (nudging !== direction) metrics.corrections.nudges += 1;
      nudging = direction;
      player.setNudge(1 + direction * NUDGE);
    } else if (nudging) {
      nudging = 0;
      player.setNudge(1);
    }
  }

  // The time a frame at the new position is on screen, in server seconds (for the measures).
  function whenShown(record) {
    const done = () => { record.shownAt = serverNow(); };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(done);
    else video.addEventListener("timeupdate", done, { once: true });
    if (record.seeked !== undefined) {
      video.addEventListener("seeked", () => { record.seekedAt = serverNow(); }, { once: true });
    }
    if (record.playing) {
      video.addEventListener("playing", () => { record.playingAt = serverNow(); }, { once: true });
    }
  }

  // Someone else's action. Older than what the server already told us: stale, dropped.
  function onRemote(msg) {
    if (msg.debrief_id !== debriefId || msg.at < newestServerAt) return;
    newestServerAt = msg.at;
    const receivedAt = serverNow();
    const before = { paused: video.paused, time: video.currentTime };
    const previous = shared;
    shared = { playing: msg.playing, position: msg.position, rate: msg.rate, at: msg.at, by: msg.by };
    player.setNudge(1);
    nudging = 0;
    const target = expected();
    const jump = Math.abs(before.time - target) > (msg.playing ? 0.25 : PAUSED_FRAME_S);
    const record = { at: msg.at, by: msg.by, position: msg.position, playing: msg.playing, receivedAt, seeked: jump ? false : undefined };
    if (ready()) {
      player.apply({ rate: msg.rate, playing: msg.playing, position: jump ? target : undefined });
      whenShown(record);
    }
    record.appliedAt = serverNow();
    metrics.received.push(record);
    if (metrics.received.length > 50) metrics.received.shift();
    onApplied?.(shared, previous);
  }

  function send() {
    sendTimer = 0;
    if (!pendingIntent || !active) return;
    const state = pendingIntent;
    pendingIntent = null;
    lastSend = performance.now();
    const seq = ++intentSeq;
    const record = { seq, sentAt: serverNow(), position: state.position, playing: state.playing, rate: state.rate };
    metrics.sent.push(record);
    if (metrics.sent.length > 50) metrics.sent.shift();
    call(socket, "debrief.playback", { debrief_id: debriefId, ...state })
      .then((answer) => {
        if (!answer?.ok) return;
        record.serverAt = answer.playback.at;
        if (answer.playback.at < newestServerAt) {
          // Someone acted after us and the server has their state: it stands.
          return;
        }
        newestServerAt = answer.playback.at;
        // The server's stamp replaces our estimate, unless we have acted again since.
        if (seq === intentSeq && !pendingIntent) shared = { ...answer.playback };
      })
      .catch(() => {
        // Lost: the next action, or a reconnect's join, brings everyone back in line.
      });
  }

  // Our own action: it is the shared state at once; it goes out now, or, during a scrub, at
  // most every SEND_GAP_MS (the last position always goes).
  function onIntent(state) {
    shared = { ...state, at: serverNow(), by: "me" };
    player.setNudge(1);
    nudging = 0;
    pendingIntent = state;
    if (sendTimer) return;
    const wait = Math.max(0, SEND_GAP_MS - (performance.now() - lastSend));
    // A microtask first: pause + seek from one click (a comment's time) go as one message.
    if (wait === 0) {
      sendTimer = -1;
      queueMicrotask(send);
    } else {
      sendTimer = setTimeout(send, wait);
    }
  }

  // Entering the room (again): the server's state is where everyone is.
  async function start(playback) {
    active = true;
    await estimateClock();
    if (playback) {
      newestServerAt = Math.max(newestServerAt, playback.at || 0);
      shared = { playing: playback.playing, position: playback.position, rate: playback.rate, at: playback.at, by: playback.by };
      if (ready()) player.apply({ rate: playback.rate });
      else video.addEventListener("loadedmetadata", () => { player.apply({ rate: playback.rate }); correct(); }, { once: true });
    }
    correct();
    clearInterval(timer);
    timer = setInterval(correct, CHECK_EVERY_MS);
    clearInterval(clockTimer);
    clockTimer = setInterval(() => estimateClock(3), RESYNC_CLOCK_MS);
  }

  function stop() {
    active = false;
    clearInterval(timer);
    clearInterval(clockTimer);
    clearTimeout(sendTimer);
    sendTimer = 0;
    player.setNudge(1);
  }

  socket.on("debrief.playback", onRemote);

  return {
    start,
    stop,
    onIntent,
    estimateClock,
    serverNow,
    expected: () => expected(),
    shared: () => shared,
    metrics,
  };
}

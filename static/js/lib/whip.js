// Live lessons in the browser: WHIP (stream) and WHEP (watch) offer/answer exchanges with the
// gateway, and the lesson clock both pages keep from the server's.
import { api, apiRaw } from "./api.js";

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The gateway does not trickle: every candidate has to be in the offer we send.
export function iceGathered(pc, timeoutMs = 5000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return Promise.race([
    new Promise((resolve) => {
      const check = () => {
        if (pc.iceGatheringState !== "complete") return;
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      };
      pc.addEventListener("icegatheringstatechange", check);
    }),
    delay(timeoutMs), // a slow STUN server: send the candidates we have
  ]);
}

// Offer, POST it as application/sdp, apply the answer. Resolves with the HTTP response (its
// Location is what to DELETE to hang up); rejects with an ApiError on a refusal.
export async function negotiate(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc);
  const response = await apiRaw("POST", url, { body: pc.localDescription.sdp, type: "application/sdp" });
  const sdp = await response.text();
  if (pc.signalingState === "closed") return response;
  await pc.setRemoteDescription({ type: "answer", sdp });
  return response;
}

// End a WHIP or WHEP session; a session already gone is fine.
export async function hangUp(location) {
  if (!location) return null;
  try {
    const response = await apiRaw("DELETE", location);
    return response.status === 204 ? null : await response.json().catch(() => null);
  } catch {
    return null;
  }
}

// The lesson clock: milliseconds since the stream started by the server's clock, so feedback
// is stamped with the recording's time whatever this device's clock says. Each sync asks the
// server a few times and keeps the answer with the shortest round trip (error ≤ half of it).
export function createLessonClock(streamId) {
  let base = null; // {lessonMs, at: performance.now() when the server measured it, rttMs}
  let frozenAt = null;

  async function sync(samples = 3) {
    let best = null;
    let latest = null;
    for (let i = 0; i < samples; i += 1) {
      const sent = performance.now();
      const stream = await api("GET", `/api/live/${streamId}`);
      const back = performance.now();
      latest = stream;
      const sample = { lessonMs: stream.lesson_ms, at: (sent + back) / 2, rttMs: back - sent };
      if (!best || sample.rttMs < best.rttMs) best = sample;
    }
    base = best;
    frozenAt = latest.status === "ended" || latest.status === "failed" ? latest.lesson_ms : null;
    return latest;
  }

  return {
    sync,
    get ready() { return base !== null; },
    get rttMs() { return base?.rttMs ?? null; },
    freeze(ms) { frozenAt = ms ?? this.now(); },
    now() {
      if (frozenAt != null) return frozenAt;
      if (!base) return 0;
      return Math.max(0, Math.round(base.lessonMs + performance.now() - base.at));
    },
  };
}

// Inbound or outbound video numbers from getStats, for the pages and the tests.
export async function videoStats(pc, type) {
  if (!pc) return null;
  const report = await pc.getStats();
  for (const s of report.values()) {
    if (s.type === type && s.kind === "video") return s;
  }
  return null;
}

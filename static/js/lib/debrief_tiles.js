// The debrief room's tiles: oneself, each connected member (video, name, mic and camera state,
// connection quality) and whoever is invited but not here yet, in that order.
import { faceColour, initials } from "./timecode.js";

const QUALITY_TEXT = { good: "Good", fair: "Fair", poor: "Poor" };

export function setFace(el, id, name) {
  el.textContent = initials(name);
  el.style.setProperty("--face", faceColour(id));
}

// people: user id -> name of everyone invited; peers(): the call's connected members.
export function createTiles({ box: tilesBox, me, local, people, peers, metrics }) {
  const $ = (role, scope) => scope.querySelector(`[data-role="${role}"]`);
  const tileTemplate = document.getElementById("tile-template").content.firstElementChild;
  const tiles = new Map(); // "me" | sid | "wait:<user id>" -> element

  function makeTile(key) {
    const tile = tileTemplate.cloneNode(true);
    tile.dataset.key = key;
    tile.querySelector('[data-action="tile-full"]').addEventListener("click", () => {
      tile.querySelector("video")?.requestFullscreen?.().catch(() => {});
    });
    tiles.set(key, tile);
    return tile;
  }

  function renderSelf() {
    const tile = tiles.get("me");
    if (!tile) return;
    const s = local.state();
    const track = local.videoTrack();
    const video = tile.querySelector("video");
    if (track) {
      if (video.srcObject?.getVideoTracks()[0] !== track) video.srcObject = new MediaStream([track]);
    } else video.srcObject = null;
    tile.dataset.state = "self";
    tile.dataset.camera = String(Boolean(track));
    tile.dataset.mirror = String(Boolean(track) && !s.screen);
    $("tile-mic", tile).hidden = s.audio;
    $("tile-badge", tile).hidden = !s.screen;
    tile.setAttribute("aria-label", `You${s.audio ? "" : ", microphone off"}${track ? "" : ", camera off"}${s.screen ? ", sharing your screen" : ""}`);
  }

  function renderPeer(peer) {
    const tile = tiles.get(peer.sid);
    if (!tile) return;
    const name = peer.user?.name || people.get(peer.user?.id) || "Guest";
    $("tile-name", tile).textContent = name;
    setFace($("tile-face", tile), peer.user?.id ?? 0, name);
    const video = tile.querySelector("video");
    if (video.srcObject !== peer.stream) {
      video.srcObject = peer.stream;
      watchFirstFrame(peer, video);
    }
    const connection = peer.pc.connectionState;
    const sending = peer.state.video || peer.state.screen;
    const frames = (peer.quality?.framesDecoded ?? 0) > 0;
    tile.dataset.state = connection === "connected" ? "live" : "connecting";
    tile.dataset.camera = String(sending && (frames || connection === "connected"));
    tile.dataset.mirror = "false";
    $("tile-mic", tile).hidden = peer.state.audio;
    $("tile-badge", tile).hidden = !peer.state.screen;
    tile.dataset.presenting = String(peer.state.screen);
    // A shared screen is worth a big view: full screen on request.
    const full = tile.querySelector('[data-action="tile-full"]');
    full.hidden = !peer.state.screen;
    full.setAttribute("aria-label", `Show ${name}'s screen full screen`);
    full.title = "Full screen";
    const status = $("tile-status", tile);
    status.textContent = {
      new: "Connecting…",
      connecting: "Connecting…",
      disconnected: "Reconnecting…",
      failed: "Reconnecting…",
    }[connection] || (!sending ? "Camera off" : "");
    const q = peer.quality;
    const box = $("tile-quality", tile);
    box.hidden = !q || connection !== "connected";
    if (q) {
      box.dataset.level = q.level;
      $("quality-text", box).textContent = QUALITY_TEXT[q.level];
      const details = [
        q.rttMs != null ? `${Math.round(q.rttMs)} ms round trip` : null,
        `${q.lossPct.toFixed(1)}% packets lost`,
        q.expectVideo && q.fps != null ? `${Math.round(q.fps)} frames a second` : null,
      ].filter(Boolean).join(", ");
      box.title = `Connection ${QUALITY_TEXT[q.level].toLowerCase()}: ${details}`;
      box.setAttribute("aria-label", box.title);
    }
    tile.setAttribute("aria-label", `${name}${peer.state.audio ? "" : ", microphone off"}${sending ? "" : ", camera off"}${peer.state.screen ? ", presenting" : ""}`);
  }

  // Join (or their arrival) to their first frame on screen: the figure people feel.
  function watchFirstFrame(peer, video) {
    if (!video.requestVideoFrameCallback) return;
    video.requestVideoFrameCallback(() => {
      const now = performance.now();
      const from = Math.max(peer.joinedAt, metrics.joinClickedAt ?? 0);
      peer.firstFrameMs = now - from;
      metrics.firstFrames.push({ user: peer.user?.name, ms: peer.firstFrameMs, sinceJoinClick: metrics.joinClickedAt != null ? now - metrics.joinClickedAt : null });
      renderPeer(peer);
    });
  }

  // Me first, then everyone connected, then whoever is invited but not here yet.
  function layoutTiles() {
    if (!tiles.has("me")) {
      const tile = makeTile("me");
      $("tile-name", tile).textContent = `${me.name} (you)`;
      setFace($("tile-face", tile), me.id, me.name);
      tile.querySelector("video").muted = true; // never hear oneself
    }
    const order = ["me"];
    const here = new Set();
    for (const peer of peers()) {
      if (!tiles.has(peer.sid)) makeTile(peer.sid);
      order.push(peer.sid);
      if (peer.user) here.add(peer.user.id);
    }
    for (const [id, name] of people) {
      if (id === me.id || here.has(id)) continue;
      const key = `wait:${id}`;
      if (!tiles.has(key)) {
        const tile = makeTile(key);
        tile.dataset.state = "waiting";
        tile.dataset.camera = "false";
        $("tile-name", tile).textContent = name;
        setFace($("tile-face", tile), id, name);
        $("tile-status", tile).textContent = "Not here yet";
        tile.setAttribute("aria-label", `${name}, not here yet`);
        tile.querySelector("video").remove();
      }
      order.push(key);
    }
    for (const [key, tile] of tiles) {
      if (!order.includes(key)) {
        tile.remove();
        tiles.delete(key);
      }
    }
    order.forEach((key, i) => {
      const tile = tiles.get(key);
      if (tilesBox.children[i] !== tile) tilesBox.insertBefore(tile, tilesBox.children[i] || null);
    });
    tilesBox.dataset.count = String(order.length);
    renderSelf();
    for (const peer of peers()) renderPeer(peer);
    const connected = peers().length;
    const waiting = [...people.keys()].filter((id) => id !== me.id && !here.has(id)).map((id) => people.get(id));
    $("people-count", document).textContent = connected
      ? `${connected + 1} people here${waiting.length ? ` · waiting for ${waiting.join(", ")}` : ""}`
      : waiting.length ? `Waiting for ${waiting.join(", ")}` : "Only you";
  }

  return { layout: layoutTiles, renderSelf, renderPeer };
}

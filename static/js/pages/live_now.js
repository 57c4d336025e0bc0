// A home's "Live now": the live lessons one may watch, kept current by live.started (sent to
// one's personal room) and live.status (sent there too), without joining the lessons' rooms
// (that would count as watching them).
import { announce, api } from "../lib/api.js";
import { connect } from "../lib/realtime.js";

const section = document.querySelector('[data-role="live-now"]');
const list = section?.querySelector('[data-role="live-now-list"]');
const template = section?.querySelector('[data-role="live-now-item"]');
const meId = Number(document.body.dataset.userId);
let known = new Map(); // stream id -> {stream, fetchedAt}

function since(stream, fetchedAt) {
  const minutes = Math.floor((stream.lesson_ms + performance.now() - fetchedAt) / 60000);
  return minutes < 1 ? "just started" : `for ${minutes} min`;
}

function render() {
  const items = [...known.values()].sort((x, y) => y.stream.id - x.stream.id);
  list.replaceChildren(...items.map(({ stream, fetchedAt }) => {
    const item = template.content.firstElementChild.cloneNode(true);
    const $ = (role) => item.querySelector(`[data-role="${role}"]`);
    const mine = stream.owner.id === meId;
    item.dataset.streamId = stream.id;
    item.dataset.status = stream.status;
    const title = $("title");
    title.href = stream.watch_url;
    title.textContent = stream.title;
    $("state").textContent = stream.status === "interrupted" ? "Reconnecting" : "Live";
    $("state").dataset.status = stream.status;
    $("who").textContent = mine ? "You" : stream.owner.name;
    $("since").textContent = since(stream, fetchedAt);
    const watch = $("watch");
    watch.href = stream.watch_url;
    watch.setAttribute("aria-label", `Watch ${stream.title}, live${mine ? "" : ` with ${stream.owner.name}`}`);
    return item;
  }));
  section.hidden = items.length === 0;
  // The lesson's own card (same page) says "Uploaded" while it is being streamed: say live.
  for (const { stream } of items) {
    const badge = document.querySelector(`.video-card[data-video-id="${stream.video_id}"] [data-role="status"]`);
    if (!badge) continue;
    badge.className = "badge badge-live-now";
    badge.textContent = stream.status === "interrupted" ? "Reconnecting" : "Live now";
  }
}

async function load() {
  try {
    const streams = await api("GET", "/api/live");
    const at = performance.now();
    known = new Map(streams.map((s) => [s.id, { stream: s, fetchedAt: at }]));
    render();
  } catch {
    // Nothing to show is the right thing to show.
  }
}

function start() {
  if (!section || !list || !template || !meId) return;
  const socket = connect();
  socket.on("connect", load); // also after a reconnect: whatever started or ended meanwhile
  socket.on("live.started", async (msg) => {
    await load();
    const entry = [...known.values()].find((e) => e.stream.video_id === msg.video_id);
    if (entry && entry.stream.owner.id !== meId) announce(`${entry.stream.owner.name} is live: ${msg.title}.`);
  });
  socket.on("live.status", (msg) => {
    const entry = [...known.values()].find((e) => e.stream.video_id === msg.video_id);
    if (msg.status === "ended" || msg.status === "failed") {
      if (entry) known.delete(entry.stream.id);
      render();
      const badge = document.querySelector(`.video-card[data-video-id="${msg.video_id}"] [data-role="status"]`);
      if (badge && msg.status === "ended") {
        badge.className = "badge badge-processing";
        badge.textContent = "Processing";
      }
    } else if (entry) {
      entry.stream.status = msg.status;
      render();
    } else {
      load();
    }
  });
  setInterval(render, 30000); // "for N min"
  load();
}

start();

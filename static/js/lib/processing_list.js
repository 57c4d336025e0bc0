// The upload page's "Processing" list: each new lesson's way through the pipeline, live from
// the owner's room (video.progress, video.status), caught up after a reconnect, and kept in the
// tab's session so a reload still shows the lessons it started.
import { announce, api } from "./api.js";
import { el } from "./dom.js";

const STAGES = {
  queued: "Waiting for a worker",
  probe: "Checking the video",
  encode: "Converting for smooth playback",
  poster: "Picking a poster frame",
  storyboard: "Making preview thumbnails",
  peaks: "Reading the audio",
  publish: "Finishing up",
  done: "Finishing up",
};

function formatEta(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "";
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

export function createProcessingList({ section, socket, recentKey }) {
  const list = section.querySelector('[data-role="processing-list"]');
  const lessons = new Map(); // video id -> {item, status, live}
  const early = new Map(); // events that arrived before we knew the lesson's id

  function remember(videoId, title) {
    let recent = [];
    try { recent = JSON.parse(sessionStorage.getItem(recentKey) || "[]"); } catch { recent = []; }
    recent = [{ id: videoId, title }, ...recent.filter((r) => r.id !== videoId)].slice(0, 10);
    try { sessionStorage.setItem(recentKey, JSON.stringify(recent)); } catch { /* private mode */ }
  }

  function lessonItem(videoId, title) {
    const bar = el("div", {
      class: "lesson-bar", role: "progressbar", "aria-label": `Processing ${title}`,
      "aria-valuemin": "0", "aria-valuemax": "100", "data-indeterminate": "true",
    }, el("span"));
    return el("li", { class: "lesson-progress", "data-video-id": String(videoId), "data-status": "uploaded" },
      el("div", { class: "lesson-progress-thumb", "aria-hidden": "true" }),
      el("div", { class: "lesson-progress-body" },
        el("div", { class: "lesson-progress-head" },
          el("h3", {}, el("a", { href: `/videos/${videoId}`, text: title })),
          el("span", { class: "badge badge-uploaded", "data-role": "status", text: "Uploaded" })),
        bar,
        el("p", { class: "lesson-progress-detail", "data-role": "detail", text: "Waiting for a worker…" }),
        el("p", { class: "lesson-progress-actions", "data-role": "actions" })));
  }

  function setBadge(lesson, status) {
    const badge = lesson.item.querySelector('[data-role="status"]');
    badge.className = `badge badge-${status}`;
    badge.textContent = status[0].toUpperCase() + status.slice(1);
    lesson.item.dataset.status = status;
    lesson.status = status;
  }

  function setBar(lesson, percent) {
    const bar = lesson.item.querySelector(".lesson-bar");
    if (percent == null) { bar.removeAttribute("aria-valuenow"); bar.dataset.indeterminate = "true"; return; }
    delete bar.dataset.indeterminate;
    bar.setAttribute("aria-valuenow", String(Math.round(percent)));
    bar.firstChild.style.setProperty("--pct", `${Math.max(2, Math.min(100, percent))}%`);
  }

  function setActions(lesson, ...nodes) {
    lesson.item.querySelector('[data-role="actions"]').replaceChildren(...nodes);
  }

  function showProgress(lesson, { stage, percent, eta_s: eta, playable }) {
    if (lesson.status === "ready" || lesson.status === "failed") return;
    setBadge(lesson, "processing");
    const label = STAGES[stage] || (stage ? stage[0].toUpperCase() + stage.slice(1) : "Processing");
    const parts = [label];
    if (percent != null) parts.push(`${Math.round(percent)}%`);
    const left = formatEta(eta);
    if (left) parts.push(left);
    lesson.item.querySelector('[data-role="detail"]').textContent = parts.join(" · ");
    setBar(lesson, stage === "queued" ? null : percent ?? null);
    if (playable && !lesson.playable) {
      lesson.playable = true;
      setActions(lesson, el("a", { class: "btn btn-small", href: `/videos/${lesson.id}`, text: "Start watching while it finishes" }));
    }
  }

  function showStatus(lesson, { status, failure_reason: reason }) {
    if (lesson.status === "ready" || lesson.status === "failed") return;
    if (status === "ready") {
      setBadge(lesson, "ready");
      setBar(lesson, 100);
      lesson.item.querySelector('[data-role="detail"]').textContent = "Ready to watch and share.";
      setActions(lesson, el("a", { class: "btn btn-primary", href: `/videos/${lesson.id}`, "data-role": "watch", text: "Ready — watch it" }));
      announce(`“${lesson.title}” is ready to watch.`);
    } else if (status === "failed") {
      setBadge(lesson, "failed");
      lesson.item.querySelector(".lesson-bar").hidden = true;
      const detail = lesson.item.querySelector('[data-role="detail"]');
      detail.textContent = `Processing failed: ${reason || "the pipeline stopped without a reason."}`;
      detail.classList.add("failure");
      setActions(lesson, el("a", { class: "btn btn-small", href: `/videos/${lesson.id}`, text: "Open the lesson" }));
      announce(`Processing “${lesson.title}” failed: ${reason || "no reason given"}.`);
    } else if (status === "processing") {
      setBadge(lesson, "processing");
    }
  }

  async function refresh(lesson) {
    try {
      const video = await api("GET", `/api/videos/${lesson.id}`);
      lesson.title = video.title;
      lesson.item.querySelector("h3 a").textContent = video.title;
      lesson.item.querySelector(".lesson-bar").setAttribute("aria-label", `Processing ${video.title}`);
      if (video.media?.poster && video.status === "ready") {
        const thumb = lesson.item.querySelector(".lesson-progress-thumb");
        thumb.replaceChildren(el("img", { src: video.media.poster, alt: "" }));
      }
      if (video.status === "ready" || video.status === "failed") showStatus(lesson, video);
      else if (video.progress && !lesson.live) showProgress(lesson, video.progress);
    } catch (err) {
      if (err.status === 404) lesson.item.remove();
    }
  }

  function track(videoId, title, fresh = false) {
    section.hidden = false;
    let lesson = lessons.get(videoId);
    if (!lesson) {
      lesson = { id: videoId, title, status: "uploaded", live: false, playable: false, item: lessonItem(videoId, title) };
      lessons.set(videoId, lesson);
      list.prepend(lesson.item);
    }
    if (fresh) remember(videoId, title);
    const buffered = early.get(videoId);
    early.delete(videoId);
    if (buffered?.progress) { lesson.live = true; showProgress(lesson, buffered.progress); }
    if (buffered?.status) showStatus(lesson, buffered.status);
    refresh(lesson);
    return lesson;
  }

  socket.on("video.progress", (msg) => {
    const lesson = lessons.get(msg.video_id);
    if (!lesson) { early.set(msg.video_id, { ...early.get(msg.video_id), progress: msg }); return; }
    lesson.live = true;
    showProgress(lesson, msg);
  });
  socket.on("video.status", (msg) => {
    const lesson = lessons.get(msg.video_id);
    if (!lesson) { early.set(msg.video_id, { ...early.get(msg.video_id), status: msg }); return; }
    showStatus(lesson, msg);
    if (msg.status === "ready") refresh(lesson); // poster
  });
  socket.on("video.deleted", ({ video_id: id }) => { lessons.get(id)?.item.remove(); lessons.delete(id); });
  // Events missed while disconnected: ask again.
  socket.on("connect", () => lessons.forEach((lesson) => refresh(lesson)));

  // The lessons this tab started before a reload.
  function restore() {
    try {
      const recent = JSON.parse(sessionStorage.getItem(recentKey) || "[]");
      recent.slice().reverse().forEach(({ id, title }) => track(id, title));
    } catch { /* nothing remembered */ }
  }

  return { track, restore };
}

// The upload page: Uppy (Dashboard + Webcam) sends lessons over tus to /api/uploads/ in chunks,
// resumable after a dropped network or a reload; then each new lesson's processing, live.
//
// Resuming: tus-js-client stores each upload's URL in localStorage under a fingerprint made of
// the Uppy file id (instance id + name, type, size, lastModified) and the endpoint. Adding the
// same file again (after a reload, in a new tab) finds that URL, asks the server for its offset
// (HEAD) and sends only the rest. The fingerprint is removed once the upload completes.
import { Dashboard, Tus, Uppy, Webcam } from "/static/vendor/uppy/uppy.min.mjs";
import { announce } from "../lib/api.js";
import { connect } from "../lib/realtime.js";
import { el } from "../lib/dom.js";
import { createProcessingList } from "../lib/processing_list.js";

const root = document.getElementById("uploader");
const ENDPOINT = root.dataset.endpoint;
const UPPY_ID = `loupe-u${root.dataset.userId}`; // per person: a shared computer never mixes uploads
const FINGERPRINT_PREFIX = `tus-${UPPY_ID}-`;
const CHUNK_SIZE = 5 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
const VIDEO_TYPES = [
  "video/*", ".webm", ".mp4", ".mov", ".m4v", ".mkv", ".avi", ".mts", ".m2ts", ".3gp",
  ".wmv", ".mpg", ".mpeg", ".ogv", ".flv",
];

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const details = document.getElementById("lesson-details");
const errorBox = root.querySelector('[data-role="upload-error"]');
const offlineNote = root.querySelector('[data-role="offline"]');
const resumable = document.getElementById("resumable");
const resumableList = resumable.querySelector('[data-role="resumable-list"]');
const processing = createProcessingList({
  section: document.getElementById("processing"),
  socket: connect(),
  recentKey: `loupe.upload.recent.${root.dataset.userId}`,
});

// --- small helpers ----------------------------------------------------------------------------

function formatBytes(n) {
  if (!Number.isFinite(n)) return "";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1).replace(/\.0$/, "")} ${units[i]}`;
}

function since(ms) {
  const minutes = Math.round((Date.now() - ms) / 60000);
  if (!Number.isFinite(minutes)) return "";
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return new Date(ms).toLocaleDateString();
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// --- messages ---------------------------------------------------------------------------------

function showError(text) {
  errorBox.querySelector('[data-role="message"]').textContent = text;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.hidden = true;
  errorBox.querySelector('[data-role="message"]').textContent = "";
}

errorBox.querySelector('[data-action="dismiss-error"]').addEventListener("click", clearError);

function fieldError(field, text) {
  const slot = details.querySelector(`[data-error-for="${field}"]`);
  const input = details.elements.namedItem(field);
  if (!slot || !input) return false;
  slot.textContent = text;
  slot.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.focus();
  return true;
}

function clearFieldErrors() {
  details.querySelectorAll("[data-error-for]").forEach((slot) => { slot.hidden = true; slot.textContent = ""; });
  details.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
}

details.addEventListener("input", (event) => {
  const slot = details.querySelector(`[data-error-for="${event.target.name}"]`);
  if (slot) slot.hidden = true;
  event.target.removeAttribute("aria-invalid");
});
details.addEventListener("submit", (event) => event.preventDefault());

// What went wrong, in words, from the tus error and the server's JSON answer.
function explain(file, error, response) {
  const original = error?.originalResponse;
  const status = response?.status ?? original?.getStatus?.() ?? 0;
  const xhr = response?.body?.xhr ?? original?.getUnderlyingObject?.();
  let body = {};
  try { body = JSON.parse(xhr?.responseText || original?.getBody?.() || "{}"); } catch { body = {}; }
  const said = typeof body.error === "string" ? body.error : "";
  const name = file?.name ? `“${file.name}”: ` : "";
  if (status === 413) {
    return { text: `${name}${said || "this file is too large for Loupe."}` };
  }
  if (status === 401 || (status === 403 && body.field === "X-CSRF-Token")) {
    // Signed out (here or in another tab) or the session expired: this page's token is stale.
    return { text: `${name}you are signed out, so Loupe cannot take the upload. Reload this page to sign in again, then add the same file — the upload continues where it stopped.` };
  }
  if (status === 403) {
    return { text: `${name}Loupe refused the upload${said ? `: ${said}` : ""}. Reload the page and try again.` };
  }
  if (status === 400 || status === 422) {
    return { text: `${name}${said || "Loupe could not accept the lesson details."}`, field: body.field };
  }
  if (status === 429) {
    return { text: `${name}too many uploads at once. Wait a minute, then press Retry.` };
  }
  if (status >= 500) {
    return { text: `${name}Loupe had a problem receiving the file (${status}). Press Retry in a moment — the upload continues where it stopped.` };
  }
  if (status === 0 || error?.isNetworkError || /network|failed to fetch/i.test(error?.message || "")) {
    return { text: `${name}the connection dropped and retrying did not help. Check the network, then press Retry — the upload continues where it stopped.` };
  }
  return { text: `${name}${said || error?.message || "the upload failed."}` };
}

// --- Uppy -------------------------------------------------------------------------------------

function readDetails() {
  const data = Object.fromEntries(new FormData(details).entries());
  return {
    title: (data.title || "").trim(),
    subject: (data.subject || "").trim(),
    grade: (data.grade || "").trim(),
    recorded_at: (data.recorded_at || "").trim(),
  };
}

function validDetails() {
  clearFieldErrors();
  const { recorded_at: recorded } = readDetails();
  if (recorded && !/^\d{4}-\d{2}-\d{2}$/.test(recorded)) {
    fieldError("recorded_at", "Enter a date like 2026-03-14.");
    return false;
  }
  if (recorded && recorded > today()) {
    fieldError("recorded_at", "The recording date cannot be in the future.");
    return false;
  }
  return true;
}

const uppy = new Uppy({
  id: UPPY_ID,
  autoProceed: false,
  restrictions: { allowedFileTypes: VIDEO_TYPES },
  onBeforeUpload: (files) => (validDetails() ? files : false),
  locale: {
    strings: {
      youCanOnlyUploadFileTypes: "Only video files can become lessons: MP4, MOV, WebM, MKV and other common formats.",
    },
  },
});

uppy.use(Dashboard, {
  inline: true,
  target: "#dashboard",
  width: "100%",
  height: 460,
  theme: "light",
  proudlyDisplayPoweredByUppy: false,
  hideProgressDetails: false,
  hidePauseResumeButton: false,
  hideRetryButton: false,
  showRemoveButtonAfterComplete: false,
  fileManagerSelectionType: "files",
  singleFileFullScreen: false,
  note: "Lesson videos: MP4, MOV, WebM, MKV and other common formats",
  metaFields: [
    { id: "title", name: "Lesson title", placeholder: "Defaults to the title under Lesson details" },
  ],
  doneButtonHandler: () => {
    uppy.clear();
    announce("Ready for the next lesson.");
  },
  locale: {
    strings: {
      dropPasteFiles: "Drop lesson videos here, %{browseFiles} or record one",
      dropPasteImportFiles: "Drop lesson videos here, %{browseFiles}, or record one:",
      browseFiles: "browse your files",
      uploadXFiles: { 0: "Upload %{smart_count} lesson", 1: "Upload %{smart_count} lessons" },
      uploadComplete: "Upload complete — now processing",
    },
  },
});

// Chromium and Firefox record WebM (VP8/VP9 + Opus), Safari MP4; the pipeline takes either.
const recordAs = ["video/webm", "video/mp4"].find((type) => window.MediaRecorder?.isTypeSupported?.(type)) ?? null;

uppy.use(Webcam, {
  modes: ["video-audio"],
  preferredVideoMimeType: recordAs,
  mirror: true,
  showRecordingLength: true,
  showVideoSourceDropdown: true,
  locale: {
    strings: {
      pluginNameCamera: "Record",
      startRecording: "Start recording",
      stopRecording: "Stop recording",
      submitRecordedFile: "Use this recording",
      discardRecordedFile: "Record again",
      recordingLength: "Recorded so far: %{recording_length}",
      allowAccessTitle: "Allow Loupe to use your camera and microphone",
      allowAccessDescription: "To record a lesson here, allow camera and microphone access when the browser asks.",
    },
  },
});

// The final PATCH answers with Loupe-Video-Id. upload-success hands us that response's XHR;
// onAfterResponse keeps the header by upload URL too, for the case a HEAD finds it complete.
const videoIdByUrl = new Map();
const urlKey = (url) => { try { return new URL(url, window.location.href).pathname; } catch { return url; } };

uppy.use(Tus, {
  endpoint: ENDPOINT,
  chunkSize: CHUNK_SIZE,
  retryDelays: RETRY_DELAYS,
  limit: 2,
  storeFingerprintForResuming: true,
  removeFingerprintOnSuccess: true,
  headers: { "X-CSRF-Token": csrfToken() },
  allowedMetaFields: ["filename", "filetype", "title", "subject", "grade", "recorded_at"],
  onAfterResponse: (req, res) => {
    const id = res.getHeader("Loupe-Video-Id");
    if (id) videoIdByUrl.set(urlKey(req.getURL()), Number(id));
    if (id && res.getHeader("Location")) videoIdByUrl.set(urlKey(res.getHeader("Location")), Number(id));
  },
});

const tusFingerprint = (file) => `tus-${file.id}-${ENDPOINT}`;

// The lesson details become tus metadata right before each upload starts; empty fields stay out.
uppy.addPreProcessor(async (fileIDs) => {
  const form = readDetails();
  const fresh = fileIDs.map((id) => uppy.getFile(id)).filter((f) => f && !f.progress?.uploadStarted);
  fresh.forEach((file, index) => {
    const own = (file.meta.title || "").trim();
    let title = own || form.title;
    if (!own && form.title && fresh.length > 1) title = `${form.title} (${index + 1} of ${fresh.length})`;
    const recorded = file.source === "Webcam";
    if (!title && recorded) title = `Recorded lesson, ${new Date().toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}`;
    const meta = {
      filename: file.name,
      filetype: file.type || "",
      title,
      subject: form.subject,
      grade: form.grade,
      recorded_at: form.recorded_at || (recorded ? today() : ""),
    };
    const kept = Object.fromEntries(Object.entries(meta).filter(([, v]) => v));
    uppy.setFileMeta(file.id, kept);
    uppy.setFileState(file.id, { tus: { ...(file.tus || {}), allowedMetaFields: Object.keys(kept) } });
  });
});

// A poster frame for the Dashboard, read locally (Uppy makes thumbnails of images only).
function videoThumbnail(file) {
  if (!file.data || !String(file.type).startsWith("video/") || file.preview) return;
  const url = URL.createObjectURL(file.data);
  const probe = document.createElement("video");
  const done = () => { URL.revokeObjectURL(url); probe.removeAttribute("src"); probe.load(); };
  probe.muted = true;
  probe.preload = "metadata";
  probe.addEventListener("loadedmetadata", () => {
    probe.currentTime = Number.isFinite(probe.duration) ? Math.min(1, probe.duration / 4) : 0;
  }, { once: true });
  probe.addEventListener("seeked", () => {
    try {
      const width = 320;
      const height = Math.round((width * probe.videoHeight) / probe.videoWidth) || 180;
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(probe, 0, 0, width, height);
      if (uppy.getFile(file.id)) uppy.setFileState(file.id, { preview: canvas.toDataURL("image/jpeg", 0.75) });
    } catch { /* no thumbnail: Uppy's icon stays */ }
    done();
  }, { once: true });
  probe.addEventListener("error", done, { once: true });
  probe.src = url;
}

uppy.on("file-added", (file) => {
  clearError();
  videoThumbnail(file);
  const earlier = storedUploads().find((entry) => entry.fingerprint === tusFingerprint(file));
  if (earlier) {
    // The server already has the details of this upload: show them and continue.
    const meta = earlier.metadata || {};
    for (const field of ["title", "subject", "grade", "recorded_at"]) {
      const input = details.elements.namedItem(field);
      if (input && !input.value && meta[field]) input.value = meta[field];
    }
    uppy.info(`Continues your earlier upload of ${file.name}.`, "info", 5000);
    announce(`${file.name} added. It continues your earlier upload; press Upload to send the rest.`);
  } else {
    announce(`${file.name} added.`);
  }
  renderResumable();
});
uppy.on("file-removed", () => renderResumable());
uppy.on("restriction-failed", (file, error) => {
  showError(file?.name ? `“${file.name}”: ${error.message}` : error.message);
});
uppy.on("upload", () => { clearError(); announce("Upload started."); });
uppy.on("upload-pause", (file, isPaused) => {
  if (file) announce(`${file.name} ${isPaused ? "paused" : "resumed"}.`);
});
uppy.on("upload-error", (file, error, response) => {
  const { text, field } = explain(file, error, response);
  if (field) fieldError(field, text);
  showError(text);
  renderResumable();
});
uppy.on("upload-success", (file, response) => {
  const xhr = response?.body?.xhr;
  const header = xhr?.getResponseHeader?.("Loupe-Video-Id");
  const videoId = Number(header) || videoIdByUrl.get(urlKey(response?.uploadURL || "")) || null;
  const title = file.meta.title || file.name.replace(/\.[^.]+$/, "");
  if (!videoId) {
    showError(`“${file.name}” arrived, but Loupe did not say which lesson it became. Find it in My lessons.`);
    return;
  }
  announce(`${file.name} uploaded. Loupe is preparing “${title}” for playback.`);
  processing.track(videoId, title, true);
  renderResumable();
});

window.addEventListener("offline", () => { offlineNote.hidden = false; });
window.addEventListener("online", () => { offlineNote.hidden = true; });
window.addEventListener("beforeunload", (event) => {
  const busy = uppy.getFiles().some((f) => f.progress?.uploadStarted && !f.progress?.uploadComplete && !f.isPaused && !f.error);
  if (busy) event.preventDefault(); // the upload can be continued later, but say so first
});

// The server's size limit, if it says: refuse too-large files before sending anything.
fetch(ENDPOINT, { method: "OPTIONS", credentials: "same-origin" })
  .then((res) => {
    const max = Number(res.headers.get("Tus-Max-Size"));
    if (!res.ok || !max) return;
    uppy.setOptions({ restrictions: { ...uppy.opts.restrictions, maxFileSize: max } });
    uppy.getPlugin("Dashboard")?.setOptions({
      note: `Lesson videos up to ${formatBytes(max)}: MP4, MOV, WebM, MKV and other common formats`,
    });
  })
  .catch(() => { /* without the limit, the server's 413 explains */ });

root.querySelector("#dashboard").dataset.state = "ready";
window.loupeUppy = uppy; // for tests and the curious

// --- unfinished uploads (tus URLs kept in localStorage) ----------------------------------------

function storedUploads() {
  const entries = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith(`tus::${FINGERPRINT_PREFIX}`)) continue;
    try {
      const entry = JSON.parse(localStorage.getItem(key));
      entries.push({ ...entry, key, fingerprint: key.slice(5, key.lastIndexOf("::")) });
    } catch { /* a malformed entry is ignored, as tus-js-client does */ }
  }
  return entries.sort((a, b) => String(b.creationTime).localeCompare(String(a.creationTime)));
}

async function serverState(uploadUrl) {
  const res = await fetch(uploadUrl, {
    method: "HEAD",
    credentials: "same-origin",
    cache: "no-store",
    headers: { "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrfToken() },
  });
  return {
    status: res.status,
    offset: Number(res.headers.get("Upload-Offset")),
    length: Number(res.headers.get("Upload-Length")),
    videoId: Number(res.headers.get("Loupe-Video-Id")) || null,
  };
}

const offsets = new Map(); // storage key -> {offset, length} from the server

async function discard(entry, item) {
  item.querySelector("button").disabled = true;
  try {
    await fetch(entry.uploadUrl, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrfToken() },
    });
  } catch { /* offline: the server lets it expire */ }
  localStorage.removeItem(entry.key);
  announce(`Discarded the unfinished upload of ${entry.metadata?.filename || "a file"}.`);
  renderResumable();
}

function renderResumable() {
  const inUppy = new Set(uppy.getFiles().map(tusFingerprint));
  const entries = storedUploads().filter((e) => !inUppy.has(e.fingerprint));
  resumableList.replaceChildren(...entries.map((entry) => {
    const name = entry.metadata?.filename || entry.metadata?.title || "A video";
    const known = offsets.get(entry.key);
    const total = known?.length || entry.size;
    const done = known ? `${formatBytes(known.offset)} of ${formatBytes(total)} on Loupe` : `${formatBytes(total)}`;
    const pct = known && total ? Math.floor((known.offset / total) * 100) : null;
    const bar = el("span", { class: "resumable-bar", "aria-hidden": "true" }, el("span"));
    if (pct != null) bar.firstChild.style.setProperty("--pct", `${pct}%`);
    const item = el("li", { class: "resumable-item", "data-offset": known ? String(known.offset) : null },
      el("div", { class: "resumable-text" },
        el("strong", { text: name }),
        el("span", { class: "muted small", text: `${done}${pct != null ? ` (${pct}%)` : ""} · started ${since(Date.parse(entry.creationTime))}` }),
        bar),
      el("button", { class: "btn btn-small btn-ghost", type: "button", "aria-label": `Discard the unfinished upload of ${name}`, text: "Discard" }));
    item.querySelector("button").addEventListener("click", () => discard(entry, item));
    return item;
  }));
  resumable.hidden = entries.length === 0;
}

async function checkStoredUploads() {
  for (const entry of storedUploads()) {
    try {
      let state = await serverState(entry.uploadUrl);
      for (let attempt = 1; attempt <= 5 && (state.status === 423 || state.status >= 500); attempt += 1) {
        // Locked while the server finishes the request the reload cut off: ask again shortly.
        await new Promise((resolve) => { setTimeout(resolve, 400 * attempt); });
        state = await serverState(entry.uploadUrl);
      }
      if (state.status === 404 || state.status === 410 || state.status === 403) {
        localStorage.removeItem(entry.key); // expired, finished elsewhere, or not ours
      } else if (state.status >= 200 && state.status < 300) {
        if (state.length && state.offset === state.length) {
          // Every byte arrived before the page went away: the lesson exists.
          localStorage.removeItem(entry.key);
          if (state.videoId) processing.track(state.videoId, entry.metadata?.title || entry.metadata?.filename || "Lesson", true);
        } else {
          offsets.set(entry.key, { offset: state.offset, length: state.length });
        }
      }
    } catch { /* offline: keep it, the tus client will ask again */ }
  }
  renderResumable();
}

// --- start ------------------------------------------------------------------------------------

details.elements.namedItem("recorded_at").max = today();
processing.restore();
checkStoredUploads();

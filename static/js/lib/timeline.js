// The timeline under the video: seek, storyboard previews on hover, the audio waveform,
// one layer of feedback markers (moments as pins, ranges as bars) and range selection by drag.
import { clock, span } from "./timecode.js";

const LANES = 3; // ranges that overlap stack in up to three rows above the pins
const DRAG_PX = 5; // a press that moves less than this is a click (seek), not a drag

const pct = (v) => `${(v * 100).toFixed(4)}%`;

export function createTimeline({ root, player, canSelect, onRange, onMarker, describe }) {
  const $ = (role) => root.querySelector(`[data-role="${role}"]`);
  const layer = $("markers");
  const track = $("track");
  const progress = $("progress");
  const buffered = $("buffered");
  const playhead = $("playhead");
  const knob = $("knob");
  const selection = $("selection");
  const selectionLabel = $("selection-label");
  const hoverline = $("hoverline");
  const tip = $("tip");
  const tipThumb = $("tip-thumb");
  const tipNote = $("tip-note");
  const tipTime = $("tip-time");
  const waveBase = $("wave-base");
  const wavePlayed = $("wave-played");
  const video = player.video;

  const markers = new Map(); // id -> {el, a}
  let duration = 0;
  let cues = [];
  let peaks = null;
  let marks = { inMs: null, outMs: null };
  let roving = null;

  // --- geometry ----------------------------------------------------------------------------

  const fraction = (ms) => (duration > 0 ? Math.min(1, Math.max(0, ms / 1000 / duration)) : 0);
  function msAt(clientX) {
    const box = track.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return Math.round(f * duration * 1000);
  }

  function setDuration(seconds) {
    if (!(seconds > 0) || Math.abs(seconds - duration) < 0.001) return;
    duration = seconds;
    root.dataset.ready = "true";
    track.setAttribute("aria-valuemax", String(Math.round(duration)));
    for (const { el, a } of markers.values()) place(el, a);
    layoutLanes();
    showMarks();
  }

  // --- playhead -----------------------------------------------------------------------------

  player.onTick((t, d) => {
    if (d) setDuration(d);
    const f = duration ? Math.min(1, t / duration) : 0;
    playhead.style.left = pct(f);
    progress.style.width = pct(f);
    wavePlayed.style.setProperty("clip-path", `inset(0 ${((1 - f) * 100).toFixed(3)}% 0 0)`);
    track.setAttribute("aria-valuenow", String(Math.round(t)));
    track.setAttribute("aria-valuetext", `${clock(t * 1000)} of ${clock(duration * 1000)}`);
    let end = 0;
    for (let i = 0; i < video.buffered.length; i += 1) {
      if (video.buffered.start(i) <= t + 0.5) end = Math.max(end, video.buffered.end(i));
    }
    buffered.style.width = pct(duration ? Math.min(1, end / duration) : 0);
  });

  // --- markers ------------------------------------------------------------------------------

  function place(el, a) {
    el.style.left = pct(fraction(a.start_ms));
    if (a.end_ms != null) el.style.width = pct(Math.max(0, fraction(a.end_ms) - fraction(a.start_ms)));
  }

  function build(a) {
    const el = document.createElement("button");
    el.type = "button";
    el.className = a.end_ms == null ? "mk" : "mk mk-range";
    el.dataset.id = a.id;
    el.tabIndex = -1;
    el.setAttribute("aria-label", describe(a));
    if (a.tag) el.style.setProperty("--c", a.tag.colour);
    else el.classList.add("mk-plain");
    if (a.visibility === "private") el.classList.add("mk-private");
    place(el, a);
    return el;
  }

  // Greedy lanes: each range takes the first row whose last bar ended before it starts.
  function layoutLanes() {
    const ranges = [...markers.values()].filter((m) => m.a.end_ms != null && !m.el.hidden);
    ranges.sort((x, y) => x.a.start_ms - y.a.start_ms || x.a.id - y.a.id);
    const ends = new Array(LANES).fill(-1);
    for (const { el, a } of ranges) {
      let lane = ends.findIndex((e) => e <= a.start_ms);
      if (lane < 0) lane = ends.indexOf(Math.min(...ends));
      ends[lane] = a.end_ms;
      el.dataset.lane = String(lane);
    }
  }

  function setRoving(el) {
    if (roving && roving !== el) roving.tabIndex = -1;
    roving = el;
    if (el) el.tabIndex = 0;
  }

  function renderAll(items) {
    const frag = document.createDocumentFragment();
    markers.clear();
    for (const a of items) {
      const el = build(a);
      markers.set(a.id, { el, a });
      frag.append(el);
    }
    layer.replaceChildren(frag);
    layoutLanes();
    setRoving(firstVisible());
  }

  function upsert(a) {
    const old = markers.get(a.id);
    const el = build(a);
    if (old) {
      el.hidden = old.el.hidden;
      if (old.el.classList.contains("is-current")) el.classList.add("is-current");
      if (roving === old.el) setRoving(el);
      old.el.replaceWith(el);
    } else {
      layer.append(el);
    }
    markers.set(a.id, { el, a });
    if (a.end_ms != null || old?.a.end_ms != null) layoutLanes();
    if (!roving) setRoving(el);
  }

  function remove(id) {
    const old = markers.get(id);
    if (!old) return;
    old.el.remove();
    markers.delete(id);
    if (roving === old.el) setRoving(firstVisible());
    if (old.a.end_ms != null) layoutLanes();
  }

  function applyFilter(matches) {
    for (const { el, a } of markers.values()) el.hidden = !matches(a);
    layoutLanes();
    if (!roving || roving.hidden) setRoving(firstVisible());
  }

  function setCurrent(ids) {
    for (const el of layer.querySelectorAll(".is-current")) {
      if (!ids.has(Number(el.dataset.id))) el.classList.remove("is-current");
    }
    for (const id of ids) markers.get(id)?.el.classList.add("is-current");
  }

  function ordered() {
    return [...markers.values()]
      .filter((m) => !m.el.hidden)
      .sort((x, y) => x.a.start_ms - y.a.start_ms || x.a.id - y.a.id);
  }
  function firstVisible() {
    return ordered()[0]?.el ?? null;
  }

  layer.addEventListener("click", (event) => {
    const el = event.target.closest(".mk");
    if (!el) return;
    setRoving(el);
    onMarker(Number(el.dataset.id));
  });
  // Arrow keys move between markers (a roving tab stop), instead of seeking.
  layer.addEventListener("keydown", (event) => {
    const el = event.target.closest(".mk");
    if (!el || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    const list = ordered().map((m) => m.el);
    const at = list.indexOf(el);
    const next = {
      ArrowLeft: list[Math.max(0, at - 1)],
      ArrowRight: list[Math.min(list.length - 1, at + 1)],
      Home: list[0],
      End: list[list.length - 1],
    }[event.key];
    event.preventDefault();
    event.stopPropagation();
    if (next) {
      setRoving(next);
      next.focus();
    }
  });

  // --- marks (in and out points) ---------------------------------------------------------

  function showMarks() {
    const { inMs, outMs } = marks;
    if (inMs == null || !duration) {
      selection.hidden = true;
      return;
    }
    const end = outMs ?? inMs;
    selection.hidden = false;
    selection.classList.toggle("is-point", outMs == null);
    selection.style.left = pct(fraction(inMs));
    selection.style.width = pct(Math.max(0, fraction(end) - fraction(inMs)));
    selectionLabel.textContent = outMs == null ? `In ${clock(inMs)}` : span(inMs, outMs);
  }

  function setMarks(next) {
    marks = { ...next };
    showMarks();
  }

  // --- pointer: hover preview, click to seek, drag to select, knob to scrub -------------

  let press = null;

  function showTip(clientX, noteFor) {
    if (!duration) return;
    const box = root.getBoundingClientRect();
    const ms = msAt(clientX);
    const x = Math.min(box.width, Math.max(0, clientX - box.left));
    hoverline.hidden = false;
    hoverline.style.left = `${x}px`;
    tipTime.textContent = clock(ms);
    const cue = cueAt(ms / 1000);
    tipThumb.hidden = !cue;
    if (cue) {
      tipThumb.style.setProperty("background-image", `url("${cue.url}")`);
      tipThumb.style.setProperty("background-position", `-${cue.x}px -${cue.y}px`);
      tipThumb.style.width = `${cue.w}px`;
      tipThumb.style.height = `${cue.h}px`;
    }
    const note = noteFor ? markers.get(noteFor)?.a : null;
    tipNote.hidden = !note;
    if (note) tipNote.textContent = describe(note, { short: true });
    tip.hidden = false;
    const half = tip.offsetWidth / 2;
    tip.style.left = `${Math.min(box.width - half, Math.max(half, x))}px`;
  }
  function hideTip() {
    tip.hidden = true;
    hoverline.hidden = true;
  }

  root.addEventListener("pointermove", (event) => {
    const marker = event.target.closest?.(".mk");
    if (!press) {
      if (event.pointerType === "mouse") showTip(event.clientX, marker ? Number(marker.dataset.id) : null);
      return;
    }
    const dx = Math.abs(event.clientX - press.x);
    if (press.mode === "pending" && dx >= DRAG_PX) press.mode = press.scrub ? "scrub" : "range";
    if (press.mode === "scrub") player.seek(msAt(event.clientX) / 1000);
    if (press.mode === "range") {
      const here = msAt(event.clientX);
      setMarks({ inMs: Math.min(press.ms, here), outMs: Math.max(press.ms, here) });
      root.dataset.dragging = "true";
    }
    showTip(event.clientX, null);
  });
  root.addEventListener("pointerleave", () => { if (!press) hideTip(); });
  root.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !duration || event.target.closest(".mk")) return;
    const onKnob = event.target === knob;
    press = {
      x: event.clientX,
      ms: msAt(event.clientX),
      mode: onKnob ? "scrub" : "pending",
      scrub: onKnob || !canSelect,
      before: { ...marks },
    };
    root.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  function release(event, cancelled) {
    if (!press) return;
    const p = press;
    press = null;
    root.dataset.dragging = "false";
    if (event.pointerType !== "mouse") hideTip();
    if (cancelled) {
      setMarks(p.before);
      return;
    }
    if (p.mode === "pending") player.seek(p.ms / 1000);
    if (p.mode === "range") {
      const here = msAt(event.clientX);
      const inMs = Math.min(p.ms, here);
      const outMs = Math.max(p.ms, here);
      if (outMs - inMs < 100) {
        setMarks(p.before);
        player.seek(p.ms / 1000);
        return;
      }
      player.seek(inMs / 1000);
      onRange(inMs, outMs);
    }
  }
  root.addEventListener("pointerup", (event) => release(event, false));
  root.addEventListener("pointercancel", (event) => release(event, true));

  // --- storyboard ---------------------------------------------------------------------------

  function parseTime(text) {
    const parts = text.trim().split(":").map(Number);
    return parts.reduce((acc, v) => acc * 60 + v, 0);
  }
  async function loadStoryboard(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const text = await response.text();
      const base = new URL(url, window.location.href);
      const out = [];
      const blocks = text.replace(/\r/g, "").split(/\n\n+/);
      for (const block of blocks) {
        const lines = block.split("\n");
        const timing = lines.findIndex((l) => l.includes("-->"));
        if (timing < 0 || !lines[timing + 1]) continue;
        const [from, to] = lines[timing].split("-->").map((s) => parseTime(s.split(" ").filter(Boolean)[0] || s));
        const [path, frag] = lines[timing + 1].trim().split("#xywh=");
        const [x, y, w, h] = (frag || "0,0,160,90").split(",").map(Number);
        out.push({ start: from, end: to, url: new URL(path, base).href, x, y, w, h });
      }
      cues = out;
      root.dataset.storyboard = cues.length ? "true" : "false";
    } catch {
      cues = [];
    }
  }
  function cueAt(seconds) {
    let lo = 0;
    let hi = cues.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cues[mid].end <= seconds) lo = mid + 1;
      else if (cues[mid].start > seconds) hi = mid - 1;
      else return cues[mid];
    }
    return cues[cues.length - 1] && seconds >= cues[cues.length - 1].start ? cues[cues.length - 1] : null;
  }

  // --- waveform -----------------------------------------------------------------------------

  async function loadPeaks(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const doc = await response.json();
      if (!Array.isArray(doc.data) || !doc.length) {
        root.dataset.wave = "silent";
        return;
      }
      peaks = doc;
      root.dataset.wave = "true";
      drawWave();
    } catch {
      peaks = null;
    }
  }

  function drawWave() {
    if (!peaks) return;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(waveBase.clientWidth * ratio));
    const height = Math.max(1, Math.round(waveBase.clientHeight * ratio));
    const { data, length, bits } = peaks;
    const full = bits === 16 ? 32768 : 128;
    // Scale to the loudest moment so a quiet classroom still draws a readable shape.
    let loudest = 1;
    for (let i = 0; i < data.length; i += 1) loudest = Math.max(loudest, Math.abs(data[i]));
    const scale = Math.min(full, loudest * 1.05);
    // The peaks cover the audio; the timeline covers the video's duration.
    const audioSeconds = (length * peaks.samples_per_pixel) / peaks.sample_rate;
    const covered = duration ? Math.min(1, audioSeconds / duration) : 1;
    const bar = Math.max(1, Math.round(2 * ratio));
    const gap = Math.max(1, Math.round(ratio));
    const columns = Math.floor((width * covered) / (bar + gap));
    const heights = new Float32Array(columns);
    for (let c = 0; c < columns; c += 1) {
      const from = Math.floor((c / columns) * length);
      const to = Math.max(from + 1, Math.floor(((c + 1) / columns) * length));
      let hi = 0;
      for (let i = from; i < to && i < length; i += 1) {
        hi = Math.max(hi, Math.abs(data[2 * i]), Math.abs(data[2 * i + 1]));
      }
      heights[c] = Math.max(ratio, (hi / scale) * height * 0.92);
    }
    for (const [canvas, colour] of [[waveBase, "#596080"], [wavePlayed, "#a5b4fc"]]) {
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = colour;
      for (let c = 0; c < columns; c += 1) {
        const h = heights[c];
        ctx.fillRect(c * (bar + gap), (height - h) / 2, bar, h);
      }
    }
  }

  if ("ResizeObserver" in window) {
    let pending = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(drawWave);
    }).observe(waveBase);
  }

  return {
    setDuration: (s) => { setDuration(s); drawWave(); },
    renderAll,
    upsert,
    remove,
    applyFilter,
    setCurrent,
    setMarks,
    loadStoryboard,
    loadPeaks,
    markerFor: (id) => markers.get(id)?.el ?? null,
    show() {
      root.hidden = false;
      drawWave();
    },
  };
}

// Times on the lesson page: milliseconds in, "1:05", "1:05.250" or "1:05–1:12" out.

const pad = (n) => String(n).padStart(2, "0");

export function clock(ms) {
  const total = Math.max(0, Math.floor((ms || 0) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function precise(ms) {
  const whole = Math.max(0, Math.round(ms || 0));
  return `${clock(whole)}.${String(whole % 1000).padStart(3, "0")}`;
}

export function span(startMs, endMs) {
  return endMs == null ? clock(startMs) : `${clock(startMs)}–${clock(endMs)}`;
}

export const toMs = (seconds) => Math.max(0, Math.round(seconds * 1000));

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

// A stable, readable hue per person, so the same face has the same colour everywhere.
export function faceColour(id) {
  const hue = (Number(id) * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 55% 42%)`;
}

export function ago(iso) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const s = (Date.now() - then) / 1000;
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  const date = new Date(then);
  const opts = { month: "short", day: "numeric" };
  if (date.getFullYear() !== new Date().getFullYear()) opts.year = "numeric";
  return date.toLocaleDateString(undefined, opts);
}

export function isTextField(el) {
  if (!el || el === document.body) return false;
  if (el.isContentEditable) return true;
  return el.matches?.("input, textarea, select") ?? false;
}

// "Today, 3:05 PM", "Tomorrow", "Mon, Mar 3": a server time in the reader's own zone.
const dayFormat = { weekday: "short", month: "short", day: "numeric" };
const timeFormat = { hour: "numeric", minute: "2-digit" };

export function localTime(iso, { dateOnly = false } = {}) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const today = new Date();
  const days = Math.round((new Date(at).setHours(0, 0, 0, 0) - new Date(today).setHours(0, 0, 0, 0)) / 86400000);
  const day = days === 0 ? "Today" : days === 1 ? "Tomorrow" : days === -1 ? "Yesterday" : at.toLocaleDateString(undefined, { ...dayFormat, ...(at.getFullYear() !== today.getFullYear() ? { year: "numeric" } : {}) });
  return dateOnly ? day : `${day}, ${at.toLocaleTimeString(undefined, timeFormat)}`;
}

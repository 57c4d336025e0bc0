// The annotation feed beside a player (the lesson page and the debrief room): the annotation list
// that follows the playhead, with filters and the summary (annotation_filters.js), threaded
// replies (annotation_replies.js), marks for ranges, and the comment box
// (annotation_composer.js); the annotations themselves live in an annotation_store.js.
import { api, announce } from "./api.js";
import { clock, span } from "./timecode.js";
import { createAnnotationStore } from "./annotation_store.js";
import { createRowBuilder, describe } from "./annotation_rows.js";
import { createComposer } from "./annotation_composer.js";
import { createFilters } from "./annotation_filters.js";
import { createReplies } from "./annotation_replies.js";

export { describe };

const MOMENT_MS = 2500; // a moment counts as "now" for this long after it
const USER_SCROLL_MS = 4000; // after the person scrolls the list, leave it alone this long
const LONG_LIST = 150; // beyond this many comments, rows off screen are not laid out

export function createAnnotationFeed({ root, player, timeline, me, canComment }) {
  const videoId = Number(root.dataset.videoId);
  const $ = (role, scope = root) => scope.querySelector(`[data-role="${role}"]`);
  const list = $("list");
  const scroller = $("list-scroller");
  const rowsOf = createRowBuilder({ me, canComment });
  const rows = new Map(); // id -> article
  let framework = null;
  let rendered = false;
  let current = new Set();
  let userScrolledAt = 0;
  const metrics = {};

  const store = createAnnotationStore({ videoId, me, onUpsert: drawRow, onRemove: dropRow });
  const { order } = store;
  const replies = createReplies({ upsert: (a) => store.upsert(a) });
  const filters = createFilters({ root, me, getFramework: () => framework, onChange: applyFilters });
  const matches = (a) => filters.matches(a);

  // --- rows -------------------------------------------------------------------------------

  function drawRow(a, { fresh }) {
    if (!rendered) return;
    const row = rowsOf.row(a);
    const previous = rows.get(a.id);
    if (previous) {
      replies.keepOpen(previous, row);
      if (previous.classList.contains("is-current")) row.classList.add("is-current");
      previous.replaceWith(row);
    } else {
      const next = order[order.indexOf(a) + 1];
      list.insertBefore(row, next ? rows.get(next.id) : null);
    }
    rows.set(a.id, row);
    row.hidden = !matches(a);
    if (fresh) {
      row.classList.add("is-new");
      row.addEventListener("animationend", () => row.classList.remove("is-new"), { once: true });
    }
    timeline.upsert(a);
    afterChange();
  }

  function dropRow(id) {
    rows.get(id)?.remove();
    rows.delete(id);
    timeline.remove(id);
    if (composer?.editingId === id) composer.reset();
    afterChange();
  }

  function afterChange() {
    if (!rendered) return;
    list.classList.toggle("is-long", order.length > LONG_LIST);
    renumber();
    filters.render(order);
    refreshCounts();
    follow(player.nowMs(), { scroll: false });
  }

  function renumber() {
    let i = 0;
    for (const a of order) {
      const row = rows.get(a.id);
      if (!row || row.hidden) continue;
      i += 1;
      row.setAttribute("aria-posinset", String(i));
    }
    for (const a of order) rows.get(a.id)?.setAttribute("aria-setsize", String(i));
  }

  function renderAll() {
    const started = performance.now();
    const frag = document.createDocumentFragment();
    rows.clear();
    for (const a of order) {
      const row = rowsOf.row(a);
      rows.set(a.id, row);
      frag.append(row);
    }
    const built = performance.now();
    list.classList.toggle("is-long", order.length > LONG_LIST);
    list.replaceChildren(frag);
    timeline.renderAll(order);
    const marked = performance.now();
    rendered = true;
    applyFilters();
    filters.render(order);
    list.setAttribute("aria-busy", "false");
    const filtered = performance.now();
    void list.offsetHeight; // include the layout of the list in the measure
    const done = performance.now();
    Object.assign(metrics, {
      renderMs: done - started,
      buildMs: built - started,
      markersMs: marked - built,
      filtersMs: filtered - marked,
      layoutMs: done - filtered,
      count: order.length,
    });
    list.dataset.rendered = "true";
  }

  function applyFilters() {
    for (const a of order) {
      const row = rows.get(a.id);
      if (row) row.hidden = !matches(a);
    }
    timeline.applyFilter(matches);
    renumber();
    refreshCounts();
    filters.showPressed();
    follow(player.nowMs(), { scroll: false });
  }

  function refreshCounts() {
    const total = order.length;
    const shown = order.reduce((n, a) => n + (matches(a) ? 1 : 0), 0);
    $("count").textContent = total === shown ? String(total) : `${shown} of ${total}`;
    $("empty").hidden = total > 0;
    $("filtered-empty").hidden = total === 0 || shown > 0;
  }

  // --- following the playhead -------------------------------------------------------------

  function follow(ms, { scroll = true } = {}) {
    if (!rendered) return;
    const now = new Set();
    for (const a of order) {
      if (a.start_ms > ms) break;
      const end = a.end_ms ?? a.start_ms + MOMENT_MS;
      if (ms < end && matches(a)) now.add(a.id);
    }
    const same = now.size === current.size && [...now].every((id) => current.has(id));
    if (same) return;
    for (const id of current) if (!now.has(id)) rows.get(id)?.classList.remove("is-current");
    for (const id of now) rows.get(id)?.classList.add("is-current");
    const entered = [...now].filter((id) => !current.has(id));
    current = now;
    timeline.setCurrent(now);
    if (scroll && entered.length) autoScroll(rows.get(entered[0]));
  }

  function typing() {
    const el = document.activeElement;
    return el && root.contains(el) && el.matches("textarea, input, select");
  }

  function autoScroll(row) {
    if (!row || Date.now() - userScrolledAt < USER_SCROLL_MS || typing()) return;
    scrollToRow(row);
  }

  function inView(row) {
    const top = row.offsetTop - scroller.scrollTop;
    return top >= 0 && top + Math.min(row.offsetHeight, scroller.clientHeight) <= scroller.clientHeight;
  }

  function scrollToRow(row, smooth = true) {
    if (!row?.isConnected || inView(row)) return;
    const target = Math.max(0, row.offsetTop - 12);
    // Glide over short distances; jump across long ones (a smooth scroll there only blurs by).
    const far = Math.abs(target - scroller.scrollTop) > scroller.clientHeight * 2;
    if (smooth && !far) {
      scroller.scrollTo({ top: target, behavior: "smooth" });
      return;
    }
    scroller.scrollTop = target;
    // In a long list, rows off screen have an estimated height until they come into view;
    // re-aim until the row stays in view (and stop if the person takes over the scrolling).
    const since = Date.now();
    let frames = 30;
    let steady = 0;
    const settle = () => {
      if (!row.isConnected || userScrolledAt > since || frames-- <= 0 || steady >= 3) return;
      if (inView(row)) steady += 1;
      else {
        steady = 0;
        scroller.scrollTop = Math.max(0, row.offsetTop - 12);
      }
      requestAnimationFrame(settle);
    };
    requestAnimationFrame(settle);
  }

  for (const type of ["wheel", "touchmove", "keydown"]) {
    scroller.addEventListener(type, () => { userScrolledAt = Date.now(); }, { passive: true });
  }
  scroller.addEventListener("pointerdown", (event) => {
    if (event.target === scroller) userScrolledAt = Date.now(); // the scrollbar
  });

  player.onTick((t) => follow(Math.round(t * 1000)));

  function flash(id) {
    const row = rows.get(id);
    if (!row) return;
    row.classList.remove("is-flash");
    void row.offsetWidth;
    row.classList.add("is-flash");
    scrollToRow(row);
    const marker = timeline.markerFor(id);
    marker?.classList.remove("is-flash");
    void marker?.offsetWidth;
    marker?.classList.add("is-flash");
  }

  function goTo(id) {
    const a = store.get(id);
    if (!a) return;
    player.pause();
    player.seek(a.start_ms / 1000);
    userScrolledAt = 0;
    flash(id);
  }

  // [ and ]: the comment before or after the playhead, among those the filters show.
  function step(direction) {
    const ms = player.nowMs();
    const shown = order.filter(matches);
    const target = direction < 0
      ? [...shown].reverse().find((a) => a.start_ms < ms - 250)
      : shown.find((a) => a.start_ms > ms + 250);
    if (!target) {
      announce(direction < 0 ? "No earlier comment." : "No later comment.");
      return;
    }
    goTo(target.id);
    announce(`${describe(target)} — ${target.author.name}`);
  }

  list.addEventListener("click", (event) => {
    const row = event.target.closest(".note");
    if (!row) return;
    const id = Number(row.dataset.id);
    const a = store.get(id);
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action === "edit") return editComment(a);
    if (action === "delete") return replies.confirmDelete(a, (gone) => store.remove(gone));
    if (action === "reply") return replies.open(row, a);
    const replyId = Number(event.target.closest(".reply")?.dataset.replyId);
    if (action === "edit-reply") return replies.edit(row, a, replyId);
    if (action === "delete-reply") return replies.confirmDeleteReply(a, replyId);
    // Anywhere else on the card (not a link, not a form): play from its time.
    if (event.target.closest("a, form, button:not([data-role=seek])")) return;
    if (window.getSelection()?.toString()) return; // selecting text to copy it
    goTo(id);
  });

  // --- marks (in and out points) and the comment box --------------------------------------

  let marks = { inMs: null, outMs: null };
  const marksBox = document.querySelector('[data-role="marks"]');
  const marksText = document.querySelector('[data-role="marks-text"]');

  function setMarks(next) {
    marks = next;
    timeline.setMarks(marks);
    if (!marksBox) return;
    marksBox.hidden = marks.inMs == null;
    if (marks.inMs != null) marksText.textContent = marks.outMs == null ? `In ${clock(marks.inMs)}` : `Range ${span(marks.inMs, marks.outMs)}`;
  }
  marksBox?.querySelector('[data-action="clear-marks"]').addEventListener("click", () => {
    setMarks({ inMs: null, outMs: null });
    if (isOpen() && !composer.editingId) setTime(player.nowMs(), null);
  });

  const form = canComment ? $("composer") : null;
  const time = { startMs: 0, endMs: null, changed: false };
  const composer = form ? createComposer({
    form,
    videoId,
    getFramework: () => framework,
    when: ({ editing }) => (!editing || time.changed ? { start_ms: time.startMs, end_ms: time.endMs } : null),
    onSaved: (saved) => {
      store.upsert(saved);
      flash(saved.id);
      backToPlayer();
    },
    onEscape: (event) => {
      event.preventDefault();
      event.stopPropagation();
      if (!composer.body.value.trim() && !composer.editingId) composer.reset();
      backToPlayer();
    },
    onReset: () => {
      time.changed = false;
      form.dataset.open = "false";
      form.dataset.editing = "false";
      $("composer-mode", form).textContent = "";
      $("save", form).textContent = "Comment";
      form.setAttribute("aria-label", "New comment");
      setMarks({ inMs: null, outMs: null });
    },
  }) : null;

  function isOpen() {
    return form?.dataset.open === "true";
  }

  function setTime(startMs, endMs, changed = true) {
    Object.assign(time, { startMs, endMs });
    if (changed) time.changed = true;
    const button = $("composer-time", form);
    button.textContent = endMs == null ? `@ ${clock(startMs)}` : `@ ${span(startMs, endMs)}`;
    button.setAttribute(
      "aria-label",
      `${endMs == null ? `At ${clock(startMs)}` : `From ${clock(startMs)} to ${clock(endMs)}`}. Use the current time instead.`,
    );
    form.querySelector('[data-action="clear-range"]').hidden = endMs == null;
    form.dataset.range = String(endMs != null);
  }

  function open({ startMs, endMs = null, focus = true } = {}) {
    form.dataset.open = "true";
    if (startMs != null) setTime(startMs, endMs);
    $("composer-error", form).hidden = true;
    if (focus) composer.body.focus();
  }

  function editComment(a) {
    composer.edit(a);
    setTime(a.start_ms, a.end_ms, false);
    form.dataset.editing = "true";
    form.setAttribute("aria-label", "Edit your comment");
    $("composer-mode", form).textContent = "Editing your comment";
    $("save", form).textContent = "Save";
    open({ focus: true });
    scrollToRow(rows.get(a.id));
  }

  if (form) {
    form.addEventListener("focusin", () => {
      if (isOpen()) return;
      // Starting to type in the box comments on the moment on screen.
      player.pause();
      const range = marks.inMs != null && marks.outMs != null;
      open({ startMs: range ? marks.inMs : player.nowMs(), endMs: range ? marks.outMs : null, focus: false });
    });
    form.querySelector('[data-action="cancel"]').addEventListener("click", () => { composer.reset(); backToPlayer(); });
    $("composer-time", form).addEventListener("click", () => {
      setMarks({ inMs: null, outMs: null });
      setTime(player.nowMs(), null);
      composer.body.focus();
    });
    form.querySelector('[data-action="clear-range"]').addEventListener("click", () => {
      setMarks({ inMs: null, outMs: null });
      setTime(time.startMs, null);
      composer.body.focus();
    });
    composer.reset();
  }

  function backToPlayer() {
    document.querySelector('[data-role="player-stage"]')?.focus({ preventScroll: true });
  }

  function cannot() {
    announce("You can watch this lesson but not comment on it.");
    return false;
  }

  function comment() {
    if (!composer) return cannot();
    player.pause();
    if (composer.editingId) return open();
    const now = player.nowMs();
    if (marks.inMs != null && marks.outMs != null) open({ startMs: marks.inMs, endMs: marks.outMs });
    else if (marks.inMs != null && now > marks.inMs) open({ startMs: marks.inMs, endMs: now });
    else open({ startMs: now, endMs: null });
  }

  function markIn() {
    if (!composer) return cannot();
    const now = player.nowMs();
    setMarks({ inMs: now, outMs: marks.outMs != null && marks.outMs > now ? marks.outMs : null });
    announce(`In point at ${clock(now)}.`);
    if (isOpen() && !composer.editingId && marks.outMs != null) setTime(marks.inMs, marks.outMs);
  }

  function markOut() {
    if (!composer) return cannot();
    const now = player.nowMs();
    const inMs = marks.inMs ?? 0;
    if (now <= inMs) {
      announce("The out point must come after the in point.");
      return;
    }
    setMarks({ inMs, outMs: now });
    announce(`Range ${span(inMs, now)} marked. Press C to comment on it.`);
    if (isOpen() && !composer.editingId) setTime(inMs, now);
  }

  // A drag across the timeline: a range, straight into the composer.
  function range(inMs, outMs) {
    if (!composer) return;
    setMarks({ inMs, outMs });
    player.pause();
    open({ startMs: inMs, endMs: outMs });
  }

  function escape() {
    if (marks.inMs == null) return;
    setMarks({ inMs: null, outMs: null });
    announce("In and out points cleared.");
  }

  // --- loading and catch-up ---------------------------------------------------------------

  async function loadFramework() {
    if (root.dataset.hasFramework !== "true") return;
    try {
      framework = await api("GET", `/api/videos/${videoId}/framework`);
    } catch {
      framework = null;
    }
    composer?.renderChips();
    if (rendered) filters.render(order);
  }

  async function sync() {
    const started = performance.now();
    const { first } = await store.sync();
    if (!first || rendered) return;
    metrics.fetchMs = performance.now() - started;
    renderAll();
    metrics.openMs = performance.now() - started;
    follow(player.nowMs(), { scroll: false });
  }

  loadFramework();

  return {
    sync,
    listen: (socket) => store.listen(socket),
    comment,
    markIn,
    markOut,
    range,
    escape,
    previous: () => step(-1),
    next: () => step(1),
    goTo,
    metrics,
    store,
    get cursor() { return store.cursor; },
  };
}

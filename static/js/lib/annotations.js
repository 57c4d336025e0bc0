// The feedback panel: the comment list that follows the playhead, filters and the summary by
// dimension, the composer (moment or range, rubric tag, type, visibility), threaded replies,
// live changes from Socket.IO and catch-up after a reconnect through the `since` cursor.
import { api, announce } from "./api.js";
import { ago, clock, faceColour, initials, span } from "./timecode.js";
import { createRubricPicker } from "./rubric_picker.js";

const KINDS = { strength: "Strength", question: "Question", suggestion: "Suggestion", note: "Note" };
const MOMENT_MS = 2500; // a moment counts as "now" for this long after it
const USER_SCROLL_MS = 4000; // after the person scrolls the list, leave it alone this long
const LONG_LIST = 150; // beyond this many comments, rows off screen are not laid out

const byTime = (x, y) => x.start_ms - y.start_ms || x.id - y.id;

function snippet(text, n = 90) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

// "0:12 Student engagement — Proficient: text…"
export function describe(a, { short = false } = {}) {
  const when = span(a.start_ms, a.end_ms);
  let what = KINDS[a.kind] || "Note";
  if (a.tag) what = a.tag.level_label ? `${a.tag.dimension_name} — ${a.tag.level_label}` : a.tag.dimension_name;
  const text = snippet(a.body, short ? 70 : 90);
  return short ? `${a.author.name} · ${what}: ${text}` : `${when} ${what}: ${text}`;
}

export function createReview({ root, player, timeline, me, canComment }) {
  const videoId = Number(root.dataset.videoId);
  const $ = (role, scope = root) => scope.querySelector(`[data-role="${role}"]`);
  const list = $("list");
  const scroller = $("list-scroller");
  const empty = $("empty");
  const filteredEmpty = $("filtered-empty");
  const count = $("count");
  const summaryBox = $("summary");
  const filters = {
    dimension: root.querySelector('[data-filter="dimension"]'),
    kind: root.querySelector('[data-filter="kind"]'),
    author: root.querySelector('[data-filter="author"]'),
  };
  const noteTemplate = document.getElementById("note-template").content.firstElementChild;
  const replyTemplate = document.getElementById("reply-template").content.firstElementChild;
  const confirmDialog = document.querySelector('[data-role="confirm"]');

  const store = new Map(); // id -> annotation
  const seqs = new Map(); // id -> newest seq seen, kept for removed ones too
  const rows = new Map(); // id -> article
  let order = []; // visible-to-me annotations in timeline order
  let framework = null;
  let cursor = 0;
  let rendered = false;
  let current = new Set();
  let userScrolledAt = 0;
  const metrics = {};

  // --- the store ----------------------------------------------------------------------------

  function accept(a) {
    const held = seqs.get(a.id);
    if (held != null && held >= a.seq) return false;
    seqs.set(a.id, a.seq);
    return true;
  }

  function indexOf(a) {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byTime(order[mid], a) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function upsert(a, { fresh = false } = {}) {
    if (a.video_id !== videoId || !accept(a)) return;
    const old = store.get(a.id);
    store.set(a.id, a);
    if (old) order.splice(order.indexOf(old), 1);
    order.splice(indexOf(a), 0, a);
    if (!rendered) return;
    const row = buildRow(a);
    const previous = rows.get(a.id);
    if (previous) {
      keepOpenForms(previous, row);
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

  function remove(id, seq) {
    if (seq != null) {
      const held = seqs.get(id);
      if (held != null && held > seq) return;
      seqs.set(id, seq);
    }
    const old = store.get(id);
    if (!old) return;
    store.delete(id);
    order.splice(order.indexOf(old), 1);
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
    refreshAuthors();
    renderSummary();
    refreshCounts();
    follow(player.nowMs(), { scroll: false });
  }

  // --- rows ---------------------------------------------------------------------------------

  function face(el, person) {
    el.textContent = initials(person.name);
    el.style.setProperty("--face", faceColour(person.id));
  }

  function buildRow(a) {
    const row = noteTemplate.cloneNode(true);
    row.dataset.id = a.id;
    row.setAttribute("aria-label", `${describe(a)} — ${a.author.name}`);
    row.dataset.kind = a.kind;
    const seek = $("seek", row);
    seek.textContent = span(a.start_ms, a.end_ms);
    seek.setAttribute("aria-label", `Play from ${clock(a.start_ms)}`);
    let badges = false;
    if (a.kind !== "note") {
      badges = true;
      const kind = $("kind", row);
      kind.hidden = false;
      kind.textContent = KINDS[a.kind];
      kind.dataset.kind = a.kind;
    }
    if (a.visibility === "private") {
      badges = true;
      $("private", row).hidden = false;
      row.classList.add("is-private");
    }
    if (a.tag) {
      badges = true;
      row.style.setProperty("--dim", a.tag.colour);
      row.classList.add("is-tagged");
      const tag = $("tag", row);
      tag.hidden = false;
      $("tag-name", tag).textContent = a.tag.dimension_name;
      if (a.tag.level_label) {
        const level = $("level", tag);
        level.hidden = false;
        level.textContent = a.tag.level_score != null ? `${a.tag.level_score} · ${a.tag.level_label}` : a.tag.level_label;
      }
    }
    $("meta", row).hidden = !badges;
    $("body", row).innerHTML = a.body_html; // server-rendered, escaped light formatting
    face($("face", row), a.author);
    $("author", row).textContent = a.author.id === me.id ? `${a.author.name} (you)` : a.author.name;
    $("when", row).textContent = ago(a.created_at) + (a.edited_at ? " · edited" : "");
    if (a.author.id === me.id && canComment) $("own", row).hidden = false;
    if (canComment) $("foot", row).hidden = false;
    if (a.replies.length) {
      const replies = $("replies", row);
      replies.hidden = false;
      replies.setAttribute("aria-label", `${a.replies.length} ${a.replies.length === 1 ? "reply" : "replies"}`);
      for (const r of a.replies) replies.append(buildReply(r));
    }
    return row;
  }

  function buildReply(r) {
    const li = replyTemplate.cloneNode(true);
    li.dataset.replyId = r.id;
    face($("face", li), r.author);
    $("author", li).textContent = r.author.id === me.id ? `${r.author.name} (you)` : r.author.name;
    $("when", li).textContent = ago(r.created_at) + (r.edited_at ? " · edited" : "");
    $("body", li).innerHTML = r.body_html;
    if (r.author.id === me.id && canComment) $("own", li).hidden = false;
    return li;
  }

  // A live update must not throw away a reply someone is typing in that thread.
  function keepOpenForms(previous, row) {
    const form = previous.querySelector(".reply-form");
    if (!form) return;
    const focused = form.contains(document.activeElement);
    const editing = form.dataset.replyId;
    if (editing) {
      const target = row.querySelector(`.reply[data-reply-id="${editing}"]`);
      if (!target) return;
      $("body", target).hidden = true;
      target.append(form);
    } else {
      $("foot", row).before(form);
    }
    if (focused) form.querySelector("textarea").focus();
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
      const row = buildRow(a);
      rows.set(a.id, row);
      frag.append(row);
    }
    const built = performance.now();
    list.classList.toggle("is-long", order.length > LONG_LIST);
    list.replaceChildren(frag);
    timeline.renderAll(order);
    const marked = performance.now();
    rendered = true;
    refreshAuthors();
    applyFilters();
    renderSummary();
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

  // --- filters, counts and the summary ----------------------------------------------------

  function matches(a) {
    const dim = filters.dimension.value;
    if (dim === "none" && a.tag) return false;
    if (dim && dim !== "none" && (!a.tag || a.tag.dimension_name !== dim)) return false;
    if (filters.kind.value && a.kind !== filters.kind.value) return false;
    if (filters.author.value && String(a.author.id) !== filters.author.value) return false;
    return true;
  }

  function applyFilters() {
    for (const a of order) {
      const row = rows.get(a.id);
      if (row) row.hidden = !matches(a);
    }
    timeline.applyFilter(matches);
    renumber();
    refreshCounts();
    for (const el of summaryBox.querySelectorAll(".sum")) {
      el.setAttribute("aria-pressed", String(filters.dimension.value === el.dataset.dimension));
    }
    follow(player.nowMs(), { scroll: false });
  }

  function refreshCounts() {
    const total = order.length;
    const shown = order.reduce((n, a) => n + (matches(a) ? 1 : 0), 0);
    count.textContent = total === shown ? String(total) : `${shown} of ${total}`;
    empty.hidden = total > 0;
    filteredEmpty.hidden = total === 0 || shown > 0;
  }

  function setOptions(select, options) {
    const value = select.value;
    const keep = [...select.options].filter((o) => o.dataset.fixed === "true" || o.value === "" || o.value === "none");
    select.replaceChildren(...keep);
    for (const [v, label] of options) {
      const option = document.createElement("option");
      option.value = v;
      option.textContent = label;
      select.append(option);
    }
    select.value = [...select.options].some((o) => o.value === value) ? value : "";
  }

  function refreshAuthors() {
    const people = new Map();
    for (const a of order) people.set(String(a.author.id), a.author.id === me.id ? `${a.author.name} (you)` : a.author.name);
    const key = [...people.keys()].sort().join(",");
    if (filters.author.dataset.key === key) return;
    filters.author.dataset.key = key;
    setOptions(filters.author, [...people].sort((x, y) => x[1].localeCompare(y[1])));
  }

  function refreshDimensionFilter() {
    const names = new Map();
    for (const d of framework?.dimensions ?? []) names.set(d.name, d.name);
    for (const a of order) if (a.tag) names.set(a.tag.dimension_name, a.tag.dimension_name);
    const key = [...names.keys()].join("|");
    if (filters.dimension.dataset.key === key) return;
    filters.dimension.dataset.key = key;
    setOptions(filters.dimension, [...names]);
  }

  function renderSummary() {
    refreshDimensionFilter();
    const groups = new Map();
    for (const a of order) {
      if (!a.tag) continue;
      const g = groups.get(a.tag.dimension_name) ?? { name: a.tag.dimension_name, colour: a.tag.colour, n: 0, scores: [] };
      g.n += 1;
      if (a.tag.level_score != null) g.scores.push(a.tag.level_score);
      groups.set(g.name, g);
    }
    // Framework order first, then anything tagged with an older framework's dimensions.
    const position = new Map((framework?.dimensions ?? []).map((d, i) => [d.name, i]));
    const maxScore = new Map((framework?.dimensions ?? []).map((d) => [d.name, Math.max(0, ...d.levels.map((l) => l.score))]));
    const sorted = [...groups.values()].sort((x, y) => (position.get(x.name) ?? 99) - (position.get(y.name) ?? 99));
    const frag = document.createDocumentFragment();
    for (const g of sorted) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sum";
      button.dataset.dimension = g.name;
      button.title = g.name;
      button.style.setProperty("--dim", g.colour);
      button.setAttribute("aria-pressed", String(filters.dimension.value === g.name));
      const avg = g.scores.length ? g.scores.reduce((s, v) => s + v, 0) / g.scores.length : null;
      const top = maxScore.get(g.name) || null;
      const name = document.createElement("span");
      name.className = "sum-name";
      name.textContent = g.name;
      const n = document.createElement("span");
      n.className = "sum-count";
      n.textContent = String(g.n);
      const score = document.createElement("span");
      score.className = "sum-avg";
      score.textContent = avg == null ? "no level" : `avg ${avg.toFixed(1)}${top ? ` / ${top}` : ""}`;
      const meter = document.createElement("span");
      meter.className = "sum-meter";
      meter.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.style.width = `${avg != null && top ? Math.round((avg / top) * 100) : 0}%`;
      meter.append(fill);
      button.append(name, n, meter, score);
      button.setAttribute(
        "aria-label",
        `${g.name}: ${g.n} ${g.n === 1 ? "comment" : "comments"}${avg == null ? "" : `, average level ${avg.toFixed(1)}`}. Show only these.`,
      );
      frag.append(button);
    }
    summaryBox.replaceChildren(frag);
    summaryBox.hidden = !sorted.length;
  }

  summaryBox.addEventListener("click", (event) => {
    const button = event.target.closest(".sum");
    if (!button) return;
    filters.dimension.value = filters.dimension.value === button.dataset.dimension ? "" : button.dataset.dimension;
    applyFilters();
  });
  for (const select of Object.values(filters)) select.addEventListener("change", applyFilters);

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

  // --- list interactions --------------------------------------------------------------------

  list.addEventListener("click", async (event) => {
    const row = event.target.closest(".note");
    if (!row) return;
    const id = Number(row.dataset.id);
    const a = store.get(id);
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action === "edit") return composer?.edit(a);
    if (action === "delete") return confirmDelete(a);
    if (action === "reply") return openReply(row, a);
    if (action === "edit-reply") return openReplyEdit(row, a, Number(event.target.closest(".reply").dataset.replyId));
    if (action === "delete-reply") return confirmDeleteReply(a, Number(event.target.closest(".reply").dataset.replyId));
    // Anywhere else on the card (not a link, not a form): play from its time.
    if (event.target.closest("a, form, button:not([data-role=seek])")) return;
    if (window.getSelection()?.toString()) return; // selecting text to copy it
    goTo(id);
  });

  function ask(title, text, ok = "Delete") {
    $("confirm-title", confirmDialog).textContent = title;
    $("confirm-text", confirmDialog).textContent = text;
    $("confirm-ok", confirmDialog).textContent = ok;
    confirmDialog.returnValue = "";
    confirmDialog.showModal();
    return new Promise((resolve) => {
      confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "ok"), { once: true });
    });
  }

  async function confirmDelete(a) {
    const replies = a.replies.length;
    const yes = await ask(
      "Delete this comment?",
      replies ? `Its ${replies} ${replies === 1 ? "reply is" : "replies are"} deleted with it. This cannot be undone.` : "This cannot be undone.",
    );
    if (!yes) return;
    try {
      await api("DELETE", `/api/annotations/${a.id}`);
      remove(a.id);
      announce("Comment deleted.");
    } catch (err) {
      announce(err.message);
    }
  }

  async function confirmDeleteReply(a, replyId) {
    if (!(await ask("Delete this reply?", "This cannot be undone."))) return;
    try {
      upsert(await api("DELETE", `/api/annotations/${a.id}/replies/${replyId}`));
      announce("Reply deleted.");
    } catch (err) {
      announce(err.message);
    }
  }

  function replyForm({ label, value = "", submitText, onSubmit, onClose }) {
    const form = document.createElement("form");
    form.className = "reply-form";
    form.noValidate = true;
    const area = document.createElement("textarea");
    area.rows = 2;
    area.maxLength = 5000;
    area.value = value;
    area.setAttribute("aria-label", label);
    area.placeholder = label;
    const error = document.createElement("p");
    error.className = "composer-error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    const bar = document.createElement("div");
    bar.className = "reply-actions";
    const hint = document.createElement("span");
    hint.className = "composer-hint muted";
    hint.textContent = "Enter to send · Esc to cancel";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-ghost btn-small";
    cancel.textContent = "Cancel";
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "btn btn-primary btn-small";
    send.textContent = submitText;
    bar.append(hint, cancel, send);
    form.append(area, error, bar);
    const close = () => { form.remove(); onClose?.(); };
    cancel.addEventListener("click", close);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(); }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = area.value.trim();
      if (!body) { area.focus(); return; }
      send.disabled = true;
      try {
        await onSubmit(body);
        form.remove();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        send.disabled = false;
      }
    });
    return form;
  }

  function openReply(row, a) {
    const open = row.querySelector(".reply-form:not([data-reply-id])");
    if (open) { open.querySelector("textarea").focus(); return; }
    const form = replyForm({
      label: `Reply to ${a.author.name}`,
      submitText: "Reply",
      onSubmit: async (body) => {
        upsert(await api("POST", `/api/annotations/${a.id}/replies`, { body }));
        announce("Reply sent.");
      },
    });
    $("foot", row).before(form);
    form.querySelector("textarea").focus();
  }

  function openReplyEdit(row, a, replyId) {
    const li = row.querySelector(`.reply[data-reply-id="${replyId}"]`);
    const reply = a.replies.find((r) => r.id === replyId);
    if (!li || !reply || li.querySelector(".reply-form")) return;
    const bodyEl = $("body", li);
    bodyEl.hidden = true;
    const form = replyForm({
      label: "Edit your reply",
      value: reply.body,
      submitText: "Save",
      onSubmit: async (body) => {
        upsert(await api("PATCH", `/api/annotations/${a.id}/replies/${replyId}`, { body }));
      },
      onClose: () => { bodyEl.hidden = false; },
    });
    form.dataset.replyId = String(replyId);
    li.append(form);
    form.querySelector("textarea").focus();
  }

  // --- marks (in and out points) ---------------------------------------------------------

  let marks = { inMs: null, outMs: null };
  const marksBox = document.querySelector('[data-role="marks"]');
  const marksText = document.querySelector('[data-role="marks-text"]');

  function showMarks() {
    timeline.setMarks(marks);
    if (!marksBox) return;
    marksBox.hidden = marks.inMs == null;
    if (marks.inMs != null) marksText.textContent = marks.outMs == null ? `In ${clock(marks.inMs)}` : `Range ${span(marks.inMs, marks.outMs)}`;
  }
  marksBox?.querySelector('[data-action="clear-marks"]').addEventListener("click", () => {
    marks = { inMs: null, outMs: null };
    showMarks();
    if (composer?.isOpen && !composer.editingId) composer.setTime(player.nowMs(), null);
  });

  // --- the composer ---------------------------------------------------------------------------

  const composer = canComment ? createComposer() : null;

  function createComposer() {
    const form = $("composer");
    const body = $("composer-body", form);
    const timeButton = $("composer-time", form);
    const clearRange = form.querySelector('[data-action="clear-range"]');
    const mode = $("composer-mode", form);
    const dims = $("dimensions", form);
    const levels = $("levels", form);
    const privateBox = $("private", form);
    const error = $("composer-error", form);
    const save = $("save", form);
    const state = { startMs: 0, endMs: null, dimension: null, level: null, editingId: null, timeChanged: false };

    function showTime() {
      timeButton.textContent = state.endMs == null ? `@ ${clock(state.startMs)}` : `@ ${span(state.startMs, state.endMs)}`;
      timeButton.setAttribute(
        "aria-label",
        `${state.endMs == null ? `At ${clock(state.startMs)}` : `From ${clock(state.startMs)} to ${clock(state.endMs)}`}. Use the current time instead.`,
      );
      clearRange.hidden = state.endMs == null;
      form.dataset.range = String(state.endMs != null);
    }

    function setTime(startMs, endMs, changed = true) {
      state.startMs = startMs;
      state.endMs = endMs;
      if (changed) state.timeChanged = true;
      showTime();
    }

    // A chip clicked with the mouse hands the caret back, so Enter saves straight away.
    const { render: renderChips } = createRubricPicker({
      dims,
      levels,
      state,
      getFramework: () => framework,
      onPick: (event) => {
        if (event.detail > 0) body.focus();
      },
    });

    function kind() {
      return form.querySelector('input[name="kind"]:checked')?.value ?? "note";
    }
    function setKind(value) {
      const input = form.querySelector(`input[name="kind"][value="${value}"]`);
      if (input) input.checked = true;
    }

    function open({ startMs, endMs = null, focus = true } = {}) {
      form.dataset.open = "true";
      if (startMs != null) setTime(startMs, endMs);
      error.hidden = true;
      if (focus) body.focus();
    }

    function reset() {
      state.dimension = state.level = state.editingId = null;
      state.timeChanged = false;
      body.value = "";
      privateBox.checked = false;
      setKind("note");
      form.dataset.open = "false";
      form.dataset.editing = "false";
      mode.textContent = "";
      save.textContent = "Comment";
      error.hidden = true;
      form.setAttribute("aria-label", "New comment");
      body.style.removeProperty("height");
      renderChips();
      marks = { inMs: null, outMs: null };
      showMarks();
    }

    function edit(a) {
      reset();
      state.editingId = a.id;
      body.value = a.body;
      state.dimension = a.tag?.dimension_id ?? null;
      state.level = a.tag?.level_id ?? null;
      // A tag from an older framework version stays unless the author picks another one.
      setKind(a.kind);
      privateBox.checked = a.visibility === "private";
      setTime(a.start_ms, a.end_ms, false);
      state.timeChanged = false;
      form.dataset.editing = "true";
      form.setAttribute("aria-label", "Edit your comment");
      mode.textContent = "Editing your comment";
      save.textContent = "Save";
      renderChips();
      open({ focus: true });
      fit();
      scrollToRow(rows.get(a.id));
    }

    async function submit() {
      const text = body.value.trim();
      if (!text) {
        error.textContent = "Write something first.";
        error.hidden = false;
        body.focus();
        return;
      }
      const payload = {
        body: text,
        kind: kind(),
        visibility: privateBox.checked ? "private" : "shared",
      };
      const editing = state.editingId;
      const old = editing ? store.get(editing) : null;
      if (!editing || state.timeChanged) {
        payload.start_ms = state.startMs;
        payload.end_ms = state.endMs;
      }
      const dimensionChanged = !old || (old.tag?.dimension_id ?? null) !== state.dimension || (old.tag?.level_id ?? null) !== state.level;
      if (!editing) {
        if (state.dimension != null) payload.dimension_id = state.dimension;
        if (state.level != null) payload.level_id = state.level;
        if (payload.end_ms == null) delete payload.end_ms;
      } else if (dimensionChanged) {
        payload.dimension_id = state.dimension;
        payload.level_id = state.level;
      }
      save.disabled = true;
      error.hidden = true;
      try {
        const saved = editing
          ? await api("PATCH", `/api/annotations/${editing}`, payload)
          : await api("POST", `/api/videos/${videoId}/annotations`, payload);
        upsert(saved);
        reset();
        flash(saved.id);
        announce(editing ? "Comment saved." : `Comment added at ${clock(saved.start_ms)}.`);
        backToPlayer();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        if (err.field === "body") body.focus();
      } finally {
        save.disabled = false;
      }
    }

    // The box grows with what is typed, up to its CSS max-height.
    function fit() {
      body.style.height = "auto";
      body.style.height = `${body.scrollHeight + 2}px`;
    }
    body.addEventListener("input", fit);

    form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit();
        return;
      }
      if (event.key === "Enter" && event.target === body && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        if (!body.value.trim() && !state.editingId) reset();
        backToPlayer();
      }
    });
    form.addEventListener("focusin", () => {
      if (form.dataset.open === "true") return;
      // Starting to type in the box comments on the moment on screen.
      player.pause();
      const range = marks.inMs != null && marks.outMs != null;
      open({ startMs: range ? marks.inMs : player.nowMs(), endMs: range ? marks.outMs : null, focus: false });
    });
    form.querySelector('[data-action="cancel"]').addEventListener("click", () => { reset(); backToPlayer(); });
    timeButton.addEventListener("click", () => {
      marks = { inMs: null, outMs: null };
      showMarks();
      setTime(player.nowMs(), null);
      body.focus();
    });
    clearRange.addEventListener("click", () => {
      marks = { inMs: null, outMs: null };
      showMarks();
      setTime(state.startMs, null);
      body.focus();
    });

    reset();
    return {
      open,
      reset,
      edit,
      renderChips,
      setTime,
      get editingId() { return state.editingId; },
      get isOpen() { return form.dataset.open === "true"; },
    };
  }

  function backToPlayer() {
    document.querySelector('[data-role="player-stage"]')?.focus({ preventScroll: true });
  }

  function cannot() {
    announce("You can watch this lesson but not comment on it.");
  }

  function comment() {
    if (!composer) return cannot();
    player.pause();
    if (composer.editingId) return composer.open();
    const now = player.nowMs();
    if (marks.inMs != null && marks.outMs != null) composer.open({ startMs: marks.inMs, endMs: marks.outMs });
    else if (marks.inMs != null && now > marks.inMs) composer.open({ startMs: marks.inMs, endMs: now });
    else composer.open({ startMs: now, endMs: null });
  }

  function markIn() {
    if (!composer) return cannot();
    const now = player.nowMs();
    marks = { inMs: now, outMs: marks.outMs != null && marks.outMs > now ? marks.outMs : null };
    showMarks();
    announce(`In point at ${clock(now)}.`);
    if (composer.isOpen && !composer.editingId && marks.outMs != null) composer.setTime(marks.inMs, marks.outMs);
  }

  function markOut() {
    if (!composer) return cannot();
    const now = player.nowMs();
    const inMs = marks.inMs ?? 0;
    if (now <= inMs) {
      announce("The out point must come after the in point.");
      return;
    }
    marks = { inMs, outMs: now };
    showMarks();
    announce(`Range ${span(inMs, now)} marked. Press C to comment on it.`);
    if (composer.isOpen && !composer.editingId) composer.setTime(inMs, now);
  }

  // A drag across the timeline: a range, straight into the composer.
  function range(inMs, outMs) {
    if (!composer) return;
    marks = { inMs, outMs };
    showMarks();
    player.pause();
    composer.open({ startMs: inMs, endMs: outMs });
  }

  function escape() {
    if (marks.inMs != null) {
      marks = { inMs: null, outMs: null };
      showMarks();
      announce("In and out points cleared.");
    }
  }

  // --- loading, live changes and catch-up -------------------------------------------------

  async function loadFramework() {
    if (root.dataset.hasFramework !== "true") return;
    try {
      framework = await api("GET", `/api/videos/${videoId}/framework`);
    } catch {
      framework = null;
    }
    composer?.renderChips();
    if (rendered) renderSummary();
  }

  function applyPage(page, { fresh }) {
    for (const a of page.annotations) upsert(a, { fresh: fresh && a.author.id !== me.id });
    for (const id of page.removed) remove(id);
  }

  let syncing = null;
  let again = false;

  // Fetch everything changed after the last cursor, page by page; one run at a time.
  function sync() {
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        again = false;
        const first = !rendered;
        const started = performance.now();
        let more = true;
        while (more) {
          const page = await api("GET", `/api/videos/${videoId}/annotations?since=${cursor}&limit=1000`);
          applyPage(page, { fresh: !first });
          cursor = page.cursor;
          more = page.more;
        }
        if (first) {
          metrics.fetchMs = performance.now() - started;
          renderAll();
          metrics.openMs = performance.now() - started;
          follow(player.nowMs(), { scroll: false });
        }
      } while (again);
    })().catch((err) => {
      announce(`Could not load the feedback: ${err.message}`);
    }).finally(() => {
      syncing = null;
    });
    return syncing;
  }

  function onChanged(msg) {
    if (msg.video_id !== videoId) return;
    const a = msg.annotation;
    const known = store.get(a.id);
    const mine = a.author.id === me.id;
    upsert(a, { fresh: !mine });
    if (!rendered || mine) return;
    if (!known) announce(`${a.author.name} commented at ${clock(a.start_ms)}.`);
    else if (a.replies.length > known.replies.length) {
      const last = a.replies[a.replies.length - 1];
      if (last.author.id !== me.id) announce(`${last.author.name} replied.`);
    }
  }

  function onRemoved(msg) {
    if (msg.video_id !== videoId) return;
    remove(msg.id, msg.seq);
  }

  loadFramework();

  return {
    sync,
    onChanged,
    onRemoved,
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
    get cursor() { return cursor; },
  };
}

// The comment box (partials/annotation_composer.html): text that grows as it is typed, one-click
// rubric tags (rubric_picker.js), the type of comment, private or shared, Enter to save. Where
// the comment sits in the lesson is the caller's: a player's moment or range (annotations.js),
// or the live lesson's clock (pages/live_watch.js), through `when()`.
import { api, announce } from "./api.js";
import { clock } from "./timecode.js";
import { createRubricPicker } from "./rubric_picker.js";

// when({editing, timeChanged}) -> {start_ms, end_ms} to send, or null to keep an edited one's.
// beforeSubmit() may wait (the live clock); onSaved(saved, {editing}) takes the answer;
// onPick(event) hears a chip chosen; onEscape() an Escape in the box.
export function createComposer({ form, videoId, getFramework, when, beforeSubmit, onSaved, onPick, onEscape, onReset }) {
  const $ = (role) => form.querySelector(`[data-role="${role}"]`);
  const body = $("composer-body");
  const privateBox = $("private");
  const error = $("composer-error");
  const save = $("save");
  const state = { dimension: null, level: null, editingId: null, edited: null, closed: false };

  const { render: renderChips } = createRubricPicker({
    dims: $("dimensions"),
    levels: $("levels"),
    state,
    getFramework,
    onPick: (event) => {
      onPick?.(event);
      // A chip clicked with the mouse hands the caret back, so Enter saves straight away.
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

  function fail(text) {
    error.textContent = text;
    error.hidden = false;
  }

  // The box grows with what is typed, up to its CSS max-height.
  function fit() {
    body.style.height = "auto";
    body.style.height = `${body.scrollHeight + 2}px`;
  }

  function reset() {
    state.dimension = state.level = state.editingId = state.edited = null;
    body.value = "";
    body.style.removeProperty("height");
    privateBox.checked = false;
    setKind("note");
    error.hidden = true;
    renderChips();
    onReset?.();
  }

  // Fill the box with one's own comment to change it.
  function edit(a) {
    reset();
    state.editingId = a.id;
    state.edited = a;
    body.value = a.body;
    // A tag from an older framework version stays unless the author picks another one.
    state.dimension = a.tag?.dimension_id ?? null;
    state.level = a.tag?.level_id ?? null;
    setKind(a.kind);
    privateBox.checked = a.visibility === "private";
    renderChips();
    fit();
  }

  async function submit() {
    if (state.closed) return;
    const text = body.value.trim();
    if (!text) {
      fail("Write something first.");
      body.focus();
      return;
    }
    await beforeSubmit?.();
    const editing = state.editingId;
    const old = state.edited;
    const payload = { body: text, kind: kind(), visibility: privateBox.checked ? "private" : "shared" };
    const at = when({ editing });
    if (at) {
      payload.start_ms = at.start_ms;
      if (at.end_ms != null || editing) payload.end_ms = at.end_ms ?? null;
    }
    const tagChanged = !old || (old.tag?.dimension_id ?? null) !== state.dimension || (old.tag?.level_id ?? null) !== state.level;
    if (!editing) {
      if (state.dimension != null) payload.dimension_id = state.dimension;
      if (state.level != null) payload.level_id = state.level;
    } else if (tagChanged) {
      payload.dimension_id = state.dimension;
      payload.level_id = state.level;
    }
    save.disabled = true;
    error.hidden = true;
    try {
      const saved = editing
        ? await api("PATCH", `/api/annotations/${editing}`, payload)
        : await api("POST", `/api/videos/${videoId}/annotations`, payload);
      reset();
      onSaved?.(saved, { editing });
      announce(editing ? "Comment saved." : `Comment added at ${clock(saved.start_ms)}.`);
    } catch (err) {
      fail(err.message);
      if (err.field === "body") body.focus();
    } finally {
      save.disabled = state.closed;
    }
  }

  body.addEventListener("input", fit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  form.addEventListener("keydown", (event) => {
    const enter = event.key === "Enter" && !event.isComposing;
    if (enter && (event.ctrlKey || event.metaKey || (event.target === body && !event.shiftKey))) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape") {
      onEscape?.(event);
    }
  });

  return {
    form,
    body,
    state,
    reset,
    edit,
    renderChips,
    fail,
    // The lesson is over (live): nothing more can be sent from here.
    close() {
      state.closed = true;
      save.disabled = true;
      body.disabled = true;
      form.dataset.closed = "true";
    },
    get editingId() { return state.editingId; },
  };
}

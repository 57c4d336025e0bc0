// The framework editor (pages/frameworks.js): name, description, dimensions with colours and
// levels, reordered and numbered as they change; client checks first, then the server's
// answer shown at the field it names, in words ("Dimension 2 (“Discussion”), level 1, score").
import { api, announce } from "./api.js";
import { make } from "./dom.js";

// The built-in frameworks' colours: new dimensions take the next one so they stay apart.
const PALETTE = ["#4f46e5", "#0891b2", "#ea580c", "#16a34a", "#db2777", "#7c3aed", "#ca8a04", "#0f766e"];
const MAX_DIMENSIONS = 20;
const MAX_LEVELS = 10;

export const clone = (id) => document.getElementById(id).content.firstElementChild.cloneNode(true);
export const part = (el, role) => el.querySelector(`[data-role="${role}"]`);
const keyed = (el, key) => el.querySelector(`[data-key="${key}"]`);

const WORDS = { name: "name", description: "description", colour: "colour", levels: "levels",
  score: "score", label: "label", descriptor: "descriptor", body: "contents" };

// "dimensions.1.levels.0.score" → "Dimension 2 (“Discussion”), level 1, score".
export function describe(path, spec) {
  const parts = String(path).split(".");
  const words = [];
  for (let i = 0; i < parts.length; i += 1) {
    const next = parts[i + 1];
    if (parts[i] === "dimensions" && /^\d+$/.test(next ?? "")) {
      const name = spec?.dimensions?.[Number(next)]?.name;
      words.push(`Dimension ${Number(next) + 1}${name ? ` (“${name}”)` : ""}`);
      i += 1;
    } else if (parts[i] === "levels" && /^\d+$/.test(next ?? "")) {
      words.push(`level ${Number(next) + 1}`);
      i += 1;
    } else {
      words.push(WORDS[parts[i]] ?? parts[i]);
    }
  }
  if (parts.length === 1 && (parts[0] === "name" || parts[0] === "description")) {
    return `Framework ${parts[0]}`;
  }
  const text = words.join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// The server prefixes its message with the field path; say the field in words instead.
export function withoutPath(message, path) {
  let text = String(message);
  if (path && text.startsWith(`${path}: `)) text = text.slice(path.length + 2);
  return text.replace(/^Value error, /, "");
}

// onSaved(saved, message) runs once a save (and a publish) went through.
export function createFrameworkEditor({ container, onSaved }) {
  let dirty = false; // the editor holds changes that are not saved

  function blankDimension(taken = []) {
    const colour = PALETTE.find((c) => !taken.includes(c)) ?? PALETTE[taken.length % PALETTE.length];
    return { name: "", description: "", colour, levels: [] };
  }

  function render(f) {
    const form = clone("tpl-editor");
    const published = f?.status === "published";
    const next = f ? f.version + 1 : 1;
    part(form, "title").textContent = f ? `Edit “${f.name}”` : "New framework";
    part(form, "subtitle").textContent = !f
      ? "It starts as a draft that only coaches and administrators see."
      : published
        ? `Published version ${f.version}${f.builtin ? " · built-in" : ""}.`
        : "Draft: only coaches and administrators see it.";
    part(form, "cancel").href = f ? `#framework-${f.id}` : "#";

    const main = part(form, "save-main");
    const draft = part(form, "save-draft");
    const note = part(form, "save-note");
    if (published) {
      draft.remove();
      main.textContent = `Save as version ${next}`;
      note.classList.add("fw-save-note-version");
      note.append(
        make("strong", "", `Saving creates version ${next}.`),
        ` Feedback already given keeps version ${f.version}, the one it was made with.`,
      );
    } else {
      main.textContent = f ? "Save and publish" : "Publish";
      note.textContent = "Publishing makes it available to everyone in the district, teachers included.";
    }

    const spec = f ?? { name: "", description: "", dimensions: [blankDimension()] };
    form.querySelector('[data-path="name"]').value = spec.name;
    form.querySelector('[data-path="description"]').value = spec.description;
    const dimensions = part(form, "dimensions");
    dimensions.dataset.path = "dimensions";
    dimensions.append(...spec.dimensions.map(dimensionEditor));

    form.addEventListener("input", (event) => {
      dirty = true;
      clearFieldError(event.target);
      if (event.target.dataset.key === "colour") {
        event.target.closest(".fw-edit-dimension").style.setProperty("--dim-colour", event.target.value);
      }
    });
    form.addEventListener("click", (event) => editorAction(form, event));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(form, f, event.submitter);
    });
    container.replaceChildren(form);
    renumber(form);
    dirty = false;
    return form;
  }

  function dimensionEditor(d) {
    const li = clone("tpl-edit-dimension");
    li.style.setProperty("--dim-colour", d.colour);
    keyed(li, "name").value = d.name;
    keyed(li, "description").value = d.description;
    keyed(li, "colour").value = d.colour;
    part(li, "levels").append(...d.levels.map(levelEditor));
    return li;
  }

  function levelEditor(lv) {
    const li = clone("tpl-edit-level");
    keyed(li, "score").value = lv.score ?? "";
    keyed(li, "label").value = lv.label;
    keyed(li, "descriptor").value = lv.descriptor;
    return li;
  }

  function srOnly(text) {
    return make("span", "sr-only", text);
  }

  // Positions, field paths and button names follow the order on screen after every change.
  function renumber(form) {
    const dims = [...part(form, "dimensions").children];
    dims.forEach((li, i) => {
      const n = i + 1;
      li.dataset.path = `dimensions.${i}`;
      part(li, "legend").textContent = `Dimension ${n}`;
      for (const key of ["name", "description", "colour"]) {
        keyed(li, key).dataset.path = `dimensions.${i}.${key}`;
      }
      setButton(li.querySelector('[data-action="up"]'), `Move dimension ${n} up`, i === 0);
      setButton(li.querySelector('[data-action="down"]'), `Move dimension ${n} down`, i === dims.length - 1);
      setButton(
        li.querySelector('[data-action="remove-dimension"]'),
        `Remove dimension ${n}`,
        dims.length === 1,
      );
      const levels = [...part(li, "levels").children];
      part(li, "levels").dataset.path = `dimensions.${i}.levels`;
      part(li, "no-levels").hidden = levels.length > 0;
      part(li, "levels-box").classList.toggle("fw-has-levels", levels.length > 0);
      const add = li.querySelector('[data-action="add-level"]');
      add.setAttribute("aria-label", `Add level to dimension ${n}`);
      add.hidden = levels.length >= MAX_LEVELS;
      levels.forEach((lv, j) => {
        const where = `Dimension ${n}, level ${j + 1}, `;
        lv.dataset.path = `dimensions.${i}.levels.${j}`;
        for (const [key, word] of [["score", "Score"], ["label", "Label"], ["descriptor", "What it looks like"]]) {
          keyed(lv, key).dataset.path = `dimensions.${i}.levels.${j}.${key}`;
          part(lv, `${key}-label`).replaceChildren(srOnly(where), word);
        }
        lv.querySelector('[data-action="remove-level"]').setAttribute(
          "aria-label",
          `Remove level ${j + 1} of dimension ${n}`,
        );
      });
    });
    form.querySelector('[data-action="add-dimension"]').hidden = dims.length >= MAX_DIMENSIONS;
  }

  // Buttons at an edge stay focusable (aria-disabled) so the keyboard does not lose its place.
  function setButton(button, label, unavailable) {
    button.setAttribute("aria-label", label);
    if (unavailable) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }

  function editorAction(form, event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    const dimensions = part(form, "dimensions");
    const dim = button.closest(".fw-edit-dimension");
    if (button.getAttribute("aria-disabled") === "true") {
      if (action === "remove-dimension") announce("A framework needs at least one dimension.");
      return;
    }
    if (action === "add-dimension") {
      const taken = [...dimensions.querySelectorAll('[data-key="colour"]')].map((c) => c.value);
      const li = dimensionEditor(blankDimension(taken));
      dimensions.append(li);
      renumber(form);
      keyed(li, "name").focus();
      announce(`Dimension ${dimensions.children.length} added.`);
    } else if (action === "up" || action === "down") {
      const sibling = action === "up" ? dim.previousElementSibling : dim.nextElementSibling;
      if (!sibling) return;
      if (action === "up") sibling.before(dim);
      else sibling.after(dim);
      renumber(form);
      button.focus();
      const position = [...dimensions.children].indexOf(dim) + 1;
      const name = keyed(dim, "name").value || "The dimension";
      announce(`${name} is now dimension ${position} of ${dimensions.children.length}.`);
    } else if (action === "remove-dimension") {
      const after = dim.nextElementSibling ?? dim.previousElementSibling;
      dim.remove();
      renumber(form);
      (after ? keyed(after, "name") : form.querySelector('[data-action="add-dimension"]')).focus();
      announce("Dimension removed.");
    } else if (action === "add-level") {
      const levels = part(dim, "levels");
      const scores = [...levels.children].map((lv) => Number(keyed(lv, "score").value) || 0);
      const li = levelEditor({ score: scores.length ? Math.max(...scores) + 1 : 1, label: "", descriptor: "" });
      levels.append(li);
      renumber(form);
      keyed(li, "label").focus();
      announce(`Level ${levels.children.length} added.`);
    } else if (action === "remove-level") {
      const level = button.closest(".fw-edit-level");
      const after = level.nextElementSibling ?? level.previousElementSibling;
      level.remove();
      renumber(form);
      (after ? keyed(after, "label") : dim.querySelector('[data-action="add-level"]')).focus();
      announce("Level removed.");
    } else {
      return;
    }
    dirty = true;
  }

  function readSpec(form) {
    const score = (input) => (input.value.trim() === "" ? null : Number(input.value));
    return {
      name: form.querySelector('[data-path="name"]').value,
      description: form.querySelector('[data-path="description"]').value,
      dimensions: [...part(form, "dimensions").children].map((li) => ({
        name: keyed(li, "name").value,
        description: keyed(li, "description").value,
        colour: keyed(li, "colour").value,
        levels: [...part(li, "levels").children].map((lv) => ({
          score: score(keyed(lv, "score")),
          label: keyed(lv, "label").value,
          descriptor: keyed(lv, "descriptor").value,
        })),
      })),
    };
  }

  // --- errors in the editor -----------------------------------------------------------------------

  let errorCount = 0;

  // The element an error path points at: the field itself, else the nearest part that holds it.
  function errorTarget(form, path) {
    const parts = String(path).split(".");
    while (parts.length) {
      const found = form.querySelector(`[data-path="${CSS.escape(parts.join("."))}"]`);
      if (found) return found;
      parts.pop();
    }
    return null;
  }

  function showFormError(form, path, message, lead = "Not saved.") {
    const box = part(form, "form-error");
    const spec = readSpec(form);
    const field = path ? describe(path, spec) : "";
    const text = withoutPath(message, path);
    box.replaceChildren(make("strong", "", `${lead} `), field ? `${field}: ${text}` : text);
    box.hidden = false;
    const target = path ? errorTarget(form, path) : null;
    if (!target) {
      box.scrollIntoView({ block: "nearest" });
      return;
    }
    const id = `fw-field-error-${(errorCount += 1)}`;
    const slot = make("p", "field-error fw-field-error", field ? `${field}: ${text}` : text);
    slot.id = id;
    // A whole dimension is wrong only when two of its levels share a score: start at the scores.
    const input = target.matches("input, textarea")
      ? target
      : ((target.matches(".fw-edit-dimension") && target.querySelector('[data-key="score"]')) ||
        target.querySelector("input, textarea"));
    if (target.matches("input, textarea")) {
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", id);
      target.closest("label").after(slot);
    } else {
      // A whole dimension, or its levels (two levels with one score): mark the part, not one field.
      target.classList.add("fw-invalid");
      const anchor = target.matches("li") ? target.querySelector("legend") : target;
      if (anchor.matches("legend")) anchor.after(slot);
      else anchor.before(slot);
      input?.setAttribute("aria-describedby", id);
    }
    input?.focus();
  }

  function clearFieldError(input) {
    if (!input?.hasAttribute?.("aria-invalid")) return;
    input.removeAttribute("aria-invalid");
    const id = input.getAttribute("aria-describedby");
    if (id) document.getElementById(id)?.remove();
    input.removeAttribute("aria-describedby");
  }

  function clearFormErrors(form) {
    part(form, "form-error").hidden = true;
    form.querySelectorAll(".fw-field-error").forEach((slot) => slot.remove());
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelectorAll("[aria-describedby^='fw-field-error']").forEach((el) =>
      el.removeAttribute("aria-describedby"),
    );
    form.querySelectorAll(".fw-invalid").forEach((el) => el.classList.remove("fw-invalid"));
  }

  // --- saving -------------------------------------------------------------------------------------

  async function save(form, f, submitter) {
    clearFormErrors(form);
    const invalid = [...form.querySelectorAll("input, textarea")].find((el) => !el.checkValidity());
    if (invalid) {
      showFormError(form, invalid.dataset.path, invalid.validationMessage, "Check this first.");
      return;
    }
    if (f?.status === "published" && !dirty) {
      showFormError(form, null, "Nothing has changed, so no new version was made.", "Not saved.");
      return;
    }
    const spec = readSpec(form);
    const publishing = submitter?.value === "publish";
    const buttons = [...form.querySelectorAll('button[type="submit"]')];
    buttons.forEach((b) => { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    let target = f;
    try {
      let saved;
      if (!target) {
        saved = await api("POST", `/api/frameworks${publishing ? "?publish=1" : ""}`, spec);
      } else {
        saved = await api("PUT", `/api/frameworks/${target.id}`, spec);
        if (publishing && saved.status === "draft") {
          target = saved; // saved in place; should publishing fail, the form still edits this draft
          dirty = false;
          saved = await api("POST", `/api/frameworks/${saved.id}/publish`);
        }
      }
      dirty = false;
      const message =
        f?.status === "published"
          ? `Saved as version ${saved.version} of “${saved.name}”.`
          : saved.status === "published"
            ? `Published “${saved.name}”.`
            : `Saved the draft “${saved.name}”.`;
      await onSaved(saved, message);
    } catch (err) {
      showFormError(form, err.field, err.message);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      form.removeAttribute("aria-busy");
    }
  }

  return {
    render,
    get dirty() { return dirty; },
    clean() { dirty = false; },
  };
}

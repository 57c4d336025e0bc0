// The frameworks page: list, view, create, edit, publish, import and export the district's rubrics.
// The address says what is shown (#framework-12, #framework-12/edit, #new), so Back works.
import { api, announce } from "../lib/api.js";

const root = document.getElementById("frameworks");
const mayEdit = root?.dataset.mayEdit === "true";
const listEl = root?.querySelector('[data-role="list"]');
const listStatus = root?.querySelector('[data-role="list-status"]');
const detail = root?.querySelector('[data-role="detail"]');
const importForm = document.getElementById("fw-import-form");

// The built-in frameworks' colours: new dimensions take the next one so they stay apart.
const PALETTE = ["#4f46e5", "#0891b2", "#ea580c", "#16a34a", "#db2777", "#7c3aed", "#ca8a04", "#0f766e"];
const MAX_DIMENSIONS = 20;
const MAX_LEVELS = 10;
const STATUS_WORDS = { draft: "Draft", published: "Published", superseded: "Earlier version" };

let frameworks = []; // what the API lists: current versions and drafts (and old versions for editors)
let dirty = false; // the editor holds changes that are not saved
let shownHash = null; // the address of what the detail panel shows

// --- small helpers ------------------------------------------------------------------------------

const clone = (id) => document.getElementById(id).content.firstElementChild.cloneNode(true);
const part = (el, role) => el.querySelector(`[data-role="${role}"]`);
const keyed = (el, key) => el.querySelector(`[data-key="${key}"]`);
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function make(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function statusBadge(status) {
  return make("span", `badge fw-badge-${status}`, STATUS_WORDS[status] ?? status);
}

function swatch(colour) {
  const dot = make("span", "fw-dot");
  dot.style.setProperty("--dim-colour", colour);
  return dot;
}

const byId = (id) => frameworks.find((f) => f.id === id);
const currentOnes = () => frameworks.filter((f) => f.status !== "superseded");
const familyOf = (f) =>
  frameworks.filter((x) => x.family === f.family).sort((a, b) => b.version - a.version);

async function load() {
  frameworks = await api("GET", `/api/frameworks${mayEdit ? "?include=superseded" : ""}`);
}

// Go to an address; the same address again still shows it afresh (after a save in place).
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// --- naming the field an error is about -----------------------------------------------------------

const WORDS = { name: "name", description: "description", colour: "colour", levels: "levels",
  score: "score", label: "label", descriptor: "descriptor", body: "contents" };

// "dimensions.1.levels.0.score" → "Dimension 2 (“Discussion”), level 1, score".
function describe(path, spec) {
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
function withoutPath(message, path) {
  let text = String(message);
  if (path && text.startsWith(`${path}: `)) text = text.slice(path.length + 2);
  return text.replace(/^Value error, /, "");
}

// --- the list -------------------------------------------------------------------------------------

function renderList(selected) {
  const shown = currentOnes();
  listStatus.hidden = shown.length > 0;
  listStatus.textContent = shown.length
    ? ""
    : mayEdit
      ? "No frameworks yet. Create one or import a file."
      : "No published frameworks yet.";
  listEl.replaceChildren(
    ...shown.map((f) => {
      const li = clone("tpl-list-item");
      const link = li.querySelector("a");
      link.href = `#framework-${f.id}`;
      if (selected && f.family === selected.family) link.setAttribute("aria-current", "true");
      part(li, "name").textContent = f.name;
      part(li, "status").replaceWith(statusBadge(f.status));
      part(li, "meta").textContent = [
        `Version ${f.version}`,
        plural(f.dimensions.length, "dimension"),
        f.builtin ? "Built-in" : null,
      ]
        .filter(Boolean)
        .join(" · ");
      part(li, "colours").replaceChildren(...f.dimensions.map((d) => swatch(d.colour)));
      return li;
    }),
  );
}

// --- viewing one framework ----------------------------------------------------------------------

function renderView(f) {
  const view = clone("tpl-view");
  part(view, "name").textContent = f.name;
  const badges = part(view, "badges");
  badges.append(statusBadge(f.status), make("span", "fw-version", `Version ${f.version}`));
  if (f.builtin) badges.append(make("span", "badge fw-badge-builtin", "Built-in"));
  badges.append(make("span", "muted", plural(f.dimensions.length, "dimension")));

  const description = part(view, "description");
  description.textContent = f.description;
  description.hidden = !f.description;

  const actions = part(view, "actions");
  if (mayEdit && f.status !== "superseded") {
    const edit = make("a", "btn", "Edit");
    edit.href = `#framework-${f.id}/edit`;
    actions.append(edit);
  }
  if (mayEdit && f.status === "draft") {
    const publish = make("button", "btn btn-primary", "Publish");
    publish.type = "button";
    publish.addEventListener("click", () => publishDraft(f, publish, view));
    actions.append(publish);
  }
  const exporting = make("a", "btn", "Export JSON");
  exporting.href = `/api/frameworks/${f.id}/export`;
  exporting.setAttribute("download", "");
  exporting.setAttribute("aria-label", `Export “${f.name}” version ${f.version} as JSON`);
  actions.append(exporting);

  const notice = part(view, "notice");
  if (f.status === "superseded") {
    const newest = familyOf(f).find((x) => x.status === "published");
    notice.append(
      make("strong", "", `This is version ${f.version}, an earlier version. `),
      `It is read-only: feedback given with it keeps showing it as it was. `,
    );
    if (newest) {
      const link = make("a", "", `Open the current version ${newest.version}`);
      link.href = `#framework-${newest.id}`;
      notice.append(link);
    }
    notice.hidden = false;
  } else if (f.status === "draft") {
    notice.append(
      make("strong", "", "Draft. "),
      "Only coaches and administrators see it. Publish it to use it for feedback.",
    );
    notice.hidden = false;
  }

  part(view, "dimensions").replaceChildren(...f.dimensions.map(renderDimension));

  const earlier = familyOf(f).filter((x) => x.status === "superseded" && x.id !== f.id);
  if (earlier.length) {
    const versions = part(view, "versions");
    versions.hidden = false;
    part(view, "versions-count").textContent = `(${earlier.length})`;
    part(view, "versions-list").replaceChildren(
      ...earlier.map((old) => {
        const li = document.createElement("li");
        const link = make("a", "", `Version ${old.version}`);
        link.href = `#framework-${old.id}`;
        const about = make(
          "span",
          "muted small",
          `${old.name === f.name ? "" : `“${old.name}” · `}${plural(old.dimensions.length, "dimension")}`,
        );
        li.append(link, about);
        return li;
      }),
    );
  }
  detail.replaceChildren(view);
  return view;
}

function renderDimension(d) {
  const li = clone("tpl-dimension");
  li.style.setProperty("--dim-colour", d.colour);
  part(li, "name").textContent = d.name;
  const description = part(li, "description");
  description.textContent = d.description;
  description.hidden = !d.description;
  const levels = part(li, "levels");
  levels.hidden = d.levels.length === 0;
  part(li, "no-levels").hidden = d.levels.length > 0;
  levels.replaceChildren(
    ...d.levels.map((lv) => {
      const item = clone("tpl-level");
      part(item, "score").textContent = lv.score;
      part(item, "label").textContent = lv.label;
      const descriptor = part(item, "descriptor");
      descriptor.textContent = lv.descriptor;
      descriptor.hidden = !lv.descriptor;
      return item;
    }),
  );
  return li;
}

async function publishDraft(f, button, view) {
  const box = part(view, "view-error");
  box.hidden = true;
  button.disabled = true;
  try {
    const published = await api("POST", `/api/frameworks/${f.id}/publish`);
    await load();
    announce(`Published “${published.name}”. Everyone in the district can use it now.`);
    go(`#framework-${published.id}`);
  } catch (err) {
    box.textContent = `Not published: ${withoutPath(err.message, err.field)}`;
    box.hidden = false;
    button.disabled = false;
  }
}

// --- the editor -----------------------------------------------------------------------------------

function blankDimension(taken = []) {
  const colour = PALETTE.find((c) => !taken.includes(c)) ?? PALETTE[taken.length % PALETTE.length];
  return { name: "", description: "", colour, levels: [] };
}

function renderEditor(f) {
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
  detail.replaceChildren(form);
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
    await load();
    const message =
      f?.status === "published"
        ? `Saved as version ${saved.version} of “${saved.name}”.`
        : saved.status === "published"
          ? `Published “${saved.name}”.`
          : `Saved the draft “${saved.name}”.`;
    go(`#framework-${saved.id}`);
    announce(message);
  } catch (err) {
    showFormError(form, err.field, err.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    form.removeAttribute("aria-busy");
  }
}

// --- import ---------------------------------------------------------------------------------------

function showImportError(message) {
  const box = document.getElementById("fw-import-error");
  const input = importForm.elements.namedItem("file");
  if (!message) {
    box.hidden = true;
    input.removeAttribute("aria-invalid");
    return;
  }
  box.replaceChildren(...message);
  box.hidden = false;
  input.setAttribute("aria-invalid", "true");
}

importForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = importForm.elements.namedItem("file");
  const file = input.files[0];
  showImportError(null);
  if (!file) {
    showImportError(["Choose a JSON file exported from Loupe first."]);
    input.focus();
    return;
  }
  let data;
  try {
    data = JSON.parse(await file.text());
  } catch (err) {
    showImportError([make("strong", "", "Not imported. "), `“${file.name}” is not valid JSON: ${err.message}`]);
    return;
  }
  const button = importForm.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const made = await api("POST", "/api/frameworks/import", data);
    importForm.reset();
    await load();
    go(`#framework-${made.id}`);
    announce(`Imported “${made.name}” as a draft.`);
  } catch (err) {
    const parts = [make("strong", "", "Not imported. ")];
    if (err.field) {
      parts.push("In the file at ", make("code", "", err.field), ` (${describe(err.field, data)}): `);
    }
    parts.push(withoutPath(err.message, err.field));
    showImportError(parts);
  } finally {
    button.disabled = false;
  }
});

importForm?.addEventListener("change", () => showImportError(null));

// --- routing --------------------------------------------------------------------------------------

function parseHash() {
  const hash = location.hash;
  if (hash === "" || hash === "#") return { mode: "first" };
  if (hash === "#new") return mayEdit ? { mode: "new" } : { mode: "first" };
  const match = /^#framework-(\d+)(\/edit)?$/.exec(hash);
  if (!match) return null; // another in-page link (the skip link): not ours
  return { mode: match[2] && mayEdit ? "edit" : "view", id: Number(match[1]) };
}

function placeholder(text) {
  const p = make("p", "muted fw-placeholder", text);
  detail.replaceChildren(p);
}

async function route({ focus = true } = {}) {
  const where = parseHash();
  if (!where) return;
  if (dirty && location.hash !== shownHash) {
    if (!window.confirm("Your changes to this framework are not saved. Leave without saving them?")) {
      history.replaceState(null, "", shownHash || location.pathname);
      return;
    }
    dirty = false;
  }
  shownHash = location.hash;
  if (where.mode === "new") {
    renderList(null);
    const form = renderEditor(null);
    if (focus) part(form, "title").focus();
    return;
  }
  let f = where.mode === "first" ? currentOnes()[0] : byId(where.id);
  if (!f && where.id) {
    try {
      f = await api("GET", `/api/frameworks/${where.id}`);
    } catch (err) {
      renderList(null);
      placeholder(err.status === 404 ? "There is no such framework in your district." : err.message);
      return;
    }
  }
  renderList(f);
  if (!f) {
    placeholder(mayEdit ? "Create a framework or import one to begin." : "No frameworks to show yet.");
    return;
  }
  const shown = where.mode === "edit" && f.status !== "superseded" ? renderEditor(f) : renderView(f);
  if (focus) shown.querySelector("h2").focus();
}

async function start() {
  if (!root) return;
  try {
    await load();
  } catch (err) {
    listStatus.textContent = `The frameworks could not be loaded: ${err.message}`;
    placeholder("Reload the page to try again.");
    return;
  }
  await route({ focus: false });
  window.addEventListener("hashchange", () => route());
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
}

start();

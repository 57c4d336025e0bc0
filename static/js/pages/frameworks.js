// The frameworks page: list, view, create, edit, publish, import and export the district's rubrics.
// The address says what is shown (#framework-12, #framework-12/edit, #new), so Back works.
import { api, announce } from "../lib/api.js";
import { make } from "../lib/dom.js";
import { clone, createFrameworkEditor, describe, part, withoutPath } from "../lib/framework_editor.js";

const root = document.getElementById("frameworks");
const mayEdit = root?.dataset.mayEdit === "true";
const listEl = root?.querySelector('[data-role="list"]');
const listStatus = root?.querySelector('[data-role="list-status"]');
const detail = root?.querySelector('[data-role="detail"]');
const importForm = document.getElementById("fw-import-form");

const STATUS_WORDS = { draft: "Draft", published: "Published", superseded: "Earlier version" };

let frameworks = []; // what the API lists: current versions and drafts (and old versions for editors)
let shownHash = null; // the address of what the detail panel shows
const editor = createFrameworkEditor({
  container: detail,
  async onSaved(saved, message) {
    await load();
    go(`#framework-${saved.id}`);
    announce(message);
  },
});

// --- small helpers ------------------------------------------------------------------------------

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

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
  if (editor.dirty && location.hash !== shownHash) {
    if (!window.confirm("Your changes to this framework are not saved. Leave without saving them?")) {
      history.replaceState(null, "", shownHash || location.pathname);
      return;
    }
    editor.clean();
  }
  shownHash = location.hash;
  if (where.mode === "new") {
    renderList(null);
    const form = editor.render(null);
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
  const shown = where.mode === "edit" && f.status !== "superseded" ? editor.render(f) : renderView(f);
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
    if (!editor.dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
}

start();

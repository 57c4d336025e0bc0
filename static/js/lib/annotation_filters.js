// The annotation feed's filters (dimension, type, author) and its summary by dimension (count and
// average level, one button per dimension that filters the list to it).
export function createFilters({ root, me, getFramework, onChange }) {
  const summaryBox = root.querySelector('[data-role="summary"]');
  const selects = {
    dimension: root.querySelector('[data-filter="dimension"]'),
    kind: root.querySelector('[data-filter="kind"]'),
    author: root.querySelector('[data-filter="author"]'),
  };

  function matches(a) {
    const dim = selects.dimension.value;
    if (dim === "none" && a.tag) return false;
    if (dim && dim !== "none" && (!a.tag || a.tag.dimension_name !== dim)) return false;
    if (selects.kind.value && a.kind !== selects.kind.value) return false;
    if (selects.author.value && String(a.author.id) !== selects.author.value) return false;
    return true;
  }

  function setOptions(select, options) {
    const value = select.value;
    const keep = [...select.options].filter((o) => o.dataset.fixed === "true" || o.value === "" || o.value === "none");
    select.replaceChildren(...keep);
    for (const [v, label] of options) select.append(new Option(label, v));
    select.value = [...select.options].some((o) => o.value === value) ? value : "";
  }

  function refreshAuthors(order) {
    const people = new Map();
    for (const a of order) people.set(String(a.author.id), a.author.id === me.id ? `${a.author.name} (you)` : a.author.name);
    const key = [...people.keys()].sort().join(",");
    if (selects.author.dataset.key === key) return;
    selects.author.dataset.key = key;
    setOptions(selects.author, [...people].sort((x, y) => x[1].localeCompare(y[1])));
  }

  function refreshDimensions(order) {
    const names = new Map();
    for (const d of getFramework()?.dimensions ?? []) names.set(d.name, d.name);
    for (const a of order) if (a.tag) names.set(a.tag.dimension_name, a.tag.dimension_name);
    const key = [...names.keys()].join("|");
    if (selects.dimension.dataset.key === key) return;
    selects.dimension.dataset.key = key;
    setOptions(selects.dimension, [...names]);
  }

  function summaryButton(g, top) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sum";
    button.dataset.dimension = g.name;
    button.title = g.name;
    button.style.setProperty("--dim", g.colour);
    button.setAttribute("aria-pressed", String(selects.dimension.value === g.name));
    const avg = g.scores.length ? g.scores.reduce((s, v) => s + v, 0) / g.scores.length : null;
    const part = (className, text) => Object.assign(document.createElement("span"), { className, textContent: text });
    const meter = part("sum-meter", "");
    meter.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.style.width = `${avg != null && top ? Math.round((avg / top) * 100) : 0}%`;
    meter.append(fill);
    button.append(
      part("sum-name", g.name),
      part("sum-count", String(g.n)),
      meter,
      part("sum-avg", avg == null ? "no level" : `avg ${avg.toFixed(1)}${top ? ` / ${top}` : ""}`),
    );
    button.setAttribute(
      "aria-label",
      `${g.name}: ${g.n} ${g.n === 1 ? "comment" : "comments"}${avg == null ? "" : `, average level ${avg.toFixed(1)}`}. Show only these.`,
    );
    return button;
  }

  // Redraw the summary (and the dimension and author choices) for these annotations.
  function render(order) {
    refreshAuthors(order);
    refreshDimensions(order);
    const groups = new Map();
    for (const a of order) {
      if (!a.tag) continue;
      const g = groups.get(a.tag.dimension_name) ?? { name: a.tag.dimension_name, colour: a.tag.colour, n: 0, scores: [] };
      g.n += 1;
      if (a.tag.level_score != null) g.scores.push(a.tag.level_score);
      groups.set(g.name, g);
    }
    // Framework order first, then anything tagged with an older framework's dimensions.
    const dimensions = getFramework()?.dimensions ?? [];
    const position = new Map(dimensions.map((d, i) => [d.name, i]));
    const maxScore = new Map(dimensions.map((d) => [d.name, Math.max(0, ...d.levels.map((l) => l.score))]));
    const sorted = [...groups.values()].sort((x, y) => (position.get(x.name) ?? 99) - (position.get(y.name) ?? 99));
    summaryBox.replaceChildren(...sorted.map((g) => summaryButton(g, maxScore.get(g.name) || null)));
    summaryBox.hidden = !sorted.length;
  }

  function showPressed() {
    for (const el of summaryBox.querySelectorAll(".sum")) {
      el.setAttribute("aria-pressed", String(selects.dimension.value === el.dataset.dimension));
    }
  }

  summaryBox.addEventListener("click", (event) => {
    const button = event.target.closest(".sum");
    if (!button) return;
    selects.dimension.value = selects.dimension.value === button.dataset.dimension ? "" : button.dataset.dimension;
    onChange();
  });
  for (const select of Object.values(selects)) select.addEventListener("change", onChange);

  return { matches, render, refreshAuthors, showPressed };
}

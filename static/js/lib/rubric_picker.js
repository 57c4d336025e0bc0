// Tagging a comment with a framework dimension and level: the chips of the comment box
// (annotation_composer.js). Each dimension carries its level scores as small buttons, so one
// click tags both; the chosen dimension's levels are spelled out (label, descriptor) below.
export function createRubricPicker({ dims, levels, state, getFramework, onPick }) {
  function chip(label, pressed, colour) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "chip";
    b.textContent = label;
    b.setAttribute("aria-pressed", String(pressed));
    if (colour) b.style.setProperty("--dim", colour);
    return b;
  }

  function pip(d, lv) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "pip";
    b.dataset.dimensionId = d.id;
    b.dataset.levelId = lv.id;
    b.textContent = String(lv.score);
    b.title = `${lv.label}: ${lv.descriptor}`;
    b.setAttribute("aria-label", `${d.name}, level ${lv.score}: ${lv.label}`);
    b.setAttribute("aria-pressed", String(state.dimension === d.id && state.level === lv.id));
    return b;
  }

  function render() {
    const framework = getFramework();
    if (!framework?.dimensions?.length) {
      dims.hidden = levels.hidden = true;
      return;
    }
    dims.hidden = false;
    const frag = document.createDocumentFragment();
    for (const d of framework.dimensions) {
      const set = document.createElement("span");
      set.className = "chip-set";
      set.style.setProperty("--dim", d.colour);
      const b = chip(d.name, state.dimension === d.id, d.colour);
      b.dataset.dimensionId = d.id;
      b.title = d.description;
      set.append(b, ...d.levels.map((lv) => pip(d, lv)));
      frag.append(set);
    }
    dims.replaceChildren(frag);
    const dim = framework.dimensions.find((d) => d.id === state.dimension);
    levels.hidden = !dim || !dim.levels.length;
    if (!dim) return;
    levels.style.setProperty("--dim", dim.colour);
    levels.replaceChildren(...dim.levels.map((lv) => {
      const b = chip("", state.level === lv.id);
      b.classList.add("chip-level");
      b.dataset.levelId = lv.id;
      b.title = lv.descriptor;
      b.setAttribute("aria-label", `Level ${lv.score}: ${lv.label}. ${lv.descriptor}`);
      const score = document.createElement("span");
      score.className = "chip-score";
      score.textContent = String(lv.score);
      b.append(score, document.createTextNode(lv.label));
      return b;
    }));
  }

  // Keyboard users keep their place on the control; a mouse click is the caller's (onPick).
  function after(event, group, selector) {
    render();
    if (event.detail === 0) group.querySelector(selector)?.focus();
    onPick?.(event);
  }
  dims.addEventListener("click", (event) => {
    const b = event.target.closest("[data-dimension-id]");
    if (!b) return;
    const id = Number(b.dataset.dimensionId);
    if (b.dataset.levelId) {
      const level = Number(b.dataset.levelId);
      const same = state.dimension === id && state.level === level;
      state.dimension = same ? null : id;
      state.level = same ? null : level;
      after(event, dims, `.pip[data-level-id="${level}"]`);
    } else {
      state.dimension = state.dimension === id ? null : id;
      state.level = null;
      after(event, dims, `.chip[data-dimension-id="${id}"]`);
    }
  });
  levels.addEventListener("click", (event) => {
    const b = event.target.closest("[data-level-id]");
    if (!b) return;
    const id = Number(b.dataset.levelId);
    state.level = state.level === id ? null : id;
    after(event, levels, `[data-level-id="${id}"]`);
  });

  return { render };
}

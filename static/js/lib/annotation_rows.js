// One annotation drawn as a row of a feed (the lesson page, the debrief room, the live watch
// page), from the one row template in partials/annotation_row.html.
import { ago, clock, faceColour, initials, span } from "./timecode.js";

export const KINDS = { strength: "Strength", question: "Question", suggestion: "Suggestion", note: "Note" };

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

// The name comes from an imported document: plain text inside the mark, never an author.
function showImported(el, name) {
  el.hidden = false;
  el.textContent = `Imported — originally by ${name}`;
}

export function setFace(el, person) {
  el.textContent = initials(person.name);
  el.style.setProperty("--face", faceColour(person.id));
}

// `seekable`: the time is a button that plays from there (a feed beside a player); elsewhere
// (a live lesson) it is plain text. `canComment` shows reply and, on one's own, edit and delete.
export function createRowBuilder({ me, canComment = false, seekable = true, threads = true }) {
  const noteTemplate = document.getElementById("annotation-row-template").content.firstElementChild;
  const replyTemplate = document.getElementById("annotation-reply-template").content.firstElementChild;
  const $ = (role, scope) => scope.querySelector(`[data-role="${role}"]`);
  const who = (person) => (person.id === me.id ? `${person.name} (you)` : person.name);

  function reply(r) {
    const li = replyTemplate.cloneNode(true);
    li.dataset.replyId = r.id;
    setFace($("face", li), r.author);
    $("author", li).textContent = who(r.author);
    $("when", li).textContent = ago(r.created_at) + (r.edited_at ? " · edited" : "");
    if (r.imported_author_name) showImported($("imported", li), r.imported_author_name);
    $("body", li).innerHTML = r.body_html; // rendered and escaped by the server
    if (r.author.id === me.id && canComment) $("own", li).hidden = false;
    return li;
  }

  function row(a) {
    const el = noteTemplate.cloneNode(true);
    el.dataset.id = a.id;
    el.setAttribute("aria-label", `${describe(a)} — ${a.author.name}`);
    el.dataset.kind = a.kind;
    let time = $("seek", el);
    if (!seekable) {
      const text = document.createElement("span");
      text.className = time.className;
      time.replaceWith(text);
      time = text;
    } else {
      time.setAttribute("aria-label", `Play from ${clock(a.start_ms)}`);
    }
    time.textContent = seekable ? span(a.start_ms, a.end_ms) : clock(a.start_ms);
    let badges = false;
    if (a.kind !== "note") {
      badges = true;
      const kind = $("kind", el);
      kind.hidden = false;
      kind.textContent = KINDS[a.kind] || a.kind;
      kind.dataset.kind = a.kind;
    }
    if (a.visibility === "private") {
      badges = true;
      $("private", el).hidden = false;
      el.classList.add("is-private");
    }
    if (a.tag) {
      badges = true;
      el.style.setProperty("--dim", a.tag.colour);
      el.classList.add("is-tagged");
      const tag = $("tag", el);
      tag.hidden = false;
      $("tag-name", tag).textContent = a.tag.dimension_name;
      if (a.tag.level_label) {
        const level = $("level", tag);
        level.hidden = false;
        level.textContent = a.tag.level_score != null ? `${a.tag.level_score} · ${a.tag.level_label}` : a.tag.level_label;
      }
    }
    if (a.imported_author_name) {
      badges = true;
      showImported($("imported", el), a.imported_author_name);
    }
    $("meta", el).hidden = !badges;
    $("body", el).innerHTML = a.body_html; // rendered and escaped by the server (richtext)
    setFace($("face", el), a.author);
    $("author", el).textContent = who(a.author);
    $("when", el).textContent = ago(a.created_at) + (a.edited_at ? " · edited" : "");
    if (!threads) return el;
    if (a.author.id === me.id && canComment) $("own", el).hidden = false;
    if (canComment) $("foot", el).hidden = false;
    if (a.replies.length) {
      const replies = $("replies", el);
      replies.hidden = false;
      replies.setAttribute("aria-label", `${a.replies.length} ${a.replies.length === 1 ? "reply" : "replies"}`);
      for (const r of a.replies) replies.append(reply(r));
    }
    return el;
  }

  return { row, reply };
}

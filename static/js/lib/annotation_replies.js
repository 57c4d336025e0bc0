// Threaded replies in a feed: the small reply form (new or edit), kept open across live updates
// of its thread, and the confirm dialog for deletions (partials/annotation_row.html).
import { api, announce } from "./api.js";

export function createReplies({ upsert }) {
  const confirmDialog = document.querySelector('[data-role="confirm"]');
  const $ = (role, scope) => scope.querySelector(`[data-role="${role}"]`);

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

  function form({ label, value = "", submitText, onSubmit, onClose }) {
    const el = document.createElement("form");
    el.className = "reply-form";
    el.noValidate = true;
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
    el.append(area, error, bar);
    const close = () => { el.remove(); onClose?.(); };
    cancel.addEventListener("click", close);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(); }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); el.requestSubmit(); }
    });
    el.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = area.value.trim();
      if (!body) { area.focus(); return; }
      send.disabled = true;
      try {
        await onSubmit(body);
        el.remove();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        send.disabled = false;
      }
    });
    return el;
  }

  function open(row, a) {
    const already = row.querySelector(".reply-form:not([data-reply-id])");
    if (already) { already.querySelector("textarea").focus(); return; }
    const el = form({
      label: `Reply to ${a.author.name}`,
      submitText: "Reply",
      onSubmit: async (body) => {
        upsert(await api("POST", `/api/annotations/${a.id}/replies`, { body }));
        announce("Reply sent.");
      },
    });
    $("foot", row).before(el);
    el.querySelector("textarea").focus();
  }

  function edit(row, a, replyId) {
    const li = row.querySelector(`.reply[data-reply-id="${replyId}"]`);
    const reply = a.replies.find((r) => r.id === replyId);
    if (!li || !reply || li.querySelector(".reply-form")) return;
    const bodyEl = $("body", li);
    bodyEl.hidden = true;
    const el = form({
      label: "Edit your reply",
      value: reply.body,
      submitText: "Save",
      onSubmit: async (body) => {
        upsert(await api("PATCH", `/api/annotations/${a.id}/replies/${replyId}`, { body }));
      },
      onClose: () => { bodyEl.hidden = false; },
    });
    el.dataset.replyId = String(replyId);
    li.append(el);
    el.querySelector("textarea").focus();
  }

  // A live update must not throw away a reply someone is typing in that thread.
  function keepOpen(previous, row) {
    const el = previous.querySelector(".reply-form");
    if (!el) return;
    const focused = el.contains(document.activeElement);
    const editing = el.dataset.replyId;
    if (editing) {
      const target = row.querySelector(`.reply[data-reply-id="${editing}"]`);
      if (!target) return;
      $("body", target).hidden = true;
      target.append(el);
    } else {
      $("foot", row).before(el);
    }
    if (focused) el.querySelector("textarea").focus();
  }

  async function confirmDelete(a, onDeleted) {
    const replies = a.replies.length;
    const yes = await ask(
      "Delete this comment?",
      replies ? `Its ${replies} ${replies === 1 ? "reply is" : "replies are"} deleted with it. This cannot be undone.` : "This cannot be undone.",
    );
    if (!yes) return;
    try {
      await api("DELETE", `/api/annotations/${a.id}`);
      onDeleted(a.id);
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

  return { open, edit, keepOpen, confirmDelete, confirmDeleteReply };
}

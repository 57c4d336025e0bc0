// The annotations of one lesson as this person may see them: an ordered store that takes a
// change only when it is newer than what it holds (every annotation carries its change number,
// `seq`), and catches up after a reconnect through the API's `since` cursor. The lesson page,
// the debrief room and the live watch page each keep one and draw it their own way.
import { api, announce } from "./api.js";
import { clock } from "./timecode.js";

export const byTime = (x, y) => x.start_ms - y.start_ms || x.id - y.id;
export const newestFirst = (x, y) => y.start_ms - x.start_ms || y.id - x.id;

// onUpsert(a, {old, fresh}) and onRemove(id, old) hear every accepted change; `fresh` is true
// for someone else's change that arrived while the page was open (not the first load).
export function createAnnotationStore({ videoId, me, compare = byTime, onUpsert = () => {}, onRemove = () => {} }) {
  const items = new Map(); // id -> annotation
  const seqs = new Map(); // id -> newest seq seen, kept for removed ones too
  const order = []; // in `compare` order
  let cursor = 0;
  let loaded = false;

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
      if (compare(order[mid], a) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function upsert(a, { fresh = false } = {}) {
    if (a.video_id !== videoId || !accept(a)) return false;
    const old = items.get(a.id);
    items.set(a.id, a);
    if (old) order.splice(order.indexOf(old), 1);
    order.splice(indexOf(a), 0, a);
    onUpsert(a, { old, fresh: fresh && a.author.id !== me.id });
    return true;
  }

  function remove(id, seq) {
    if (seq != null) {
      const held = seqs.get(id);
      if (held != null && held > seq) return false;
      seqs.set(id, seq);
    }
    const old = items.get(id);
    if (!old) return false;
    items.delete(id);
    order.splice(order.indexOf(old), 1);
    onRemove(id, old);
    return true;
  }

  let syncing = null;
  let again = false;

  // Fetch everything changed after the cursor, page by page; one run at a time (a call during
  // a run makes it go round once more). Resolves with {first} once caught up.
  function sync() {
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      const first = !loaded;
      do {
        again = false;
        let more = true;
        while (more) {
          const page = await api("GET", `/api/videos/${videoId}/annotations?since=${cursor}&limit=1000`);
          for (const a of page.annotations) upsert(a, { fresh: loaded });
          for (const id of page.removed) remove(id);
          cursor = page.cursor;
          more = page.more;
        }
        loaded = true;
      } while (again);
      return { first };
    })()
      .catch((err) => {
        announce(`Could not load the feedback: ${err.message}`);
        return { first: false, failed: true };
      })
      .finally(() => {
        syncing = null;
      });
    return syncing;
  }

  // Live changes from the lesson's room; others' new comments and replies are read out.
  function listen(socket) {
    socket.on("annotation.changed", (msg) => {
      if (msg.video_id !== videoId) return;
      const a = msg.annotation;
      const known = items.get(a.id);
      if (!upsert(a, { fresh: true }) || !loaded || a.author.id === me.id) return;
      if (!known) announce(`${a.author.name} commented at ${clock(a.start_ms)}.`);
      else if (a.replies.length > known.replies.length) {
        const last = a.replies[a.replies.length - 1];
        if (last.author.id !== me.id) announce(`${last.author.name} replied.`);
      }
    });
    socket.on("annotation.removed", (msg) => {
      if (msg.video_id === videoId) remove(msg.id, msg.seq);
    });
  }

  return {
    upsert,
    remove,
    sync,
    listen,
    order,
    get: (id) => items.get(id),
    values: () => items.values(),
    has: (id) => items.has(id),
    get size() { return items.size; },
    get cursor() { return cursor; },
    get loaded() { return loaded; },
  };
}

// Who else is watching this lesson: faces and names, from presence events in the video's room.
import { faceColour, initials } from "./timecode.js";

const MAX_FACES = 4;

// `ignore`: ids left out of the line besides oneself (the teacher streaming is teaching, not
// watching); `also`: say "is also watching" where the reader watches too.
export function createPresence({ box, socket, videoId, me, ignore = [], also = false }) {
  const faces = box.querySelector('[data-role="presence-faces"]');
  const text = box.querySelector('[data-role="presence-text"]');
  const bySid = new Map(); // socket id -> {id, name, role}

  function people() {
    const seen = new Map();
    for (const user of bySid.values()) {
      if (user.id !== me.id && !ignore.includes(user.id)) seen.set(user.id, user);
    }
    return [...seen.values()].sort((x, y) => x.name.localeCompare(y.name));
  }

  function render() {
    const list = people();
    box.hidden = list.length === 0;
    const frag = document.createDocumentFragment();
    for (const user of list.slice(0, MAX_FACES)) {
      const face = document.createElement("span");
      face.className = "face";
      face.textContent = initials(user.name);
      face.title = `${user.name} (${user.role})`;
      face.style.setProperty("--face", faceColour(user.id));
      frag.append(face);
    }
    if (list.length > MAX_FACES) {
      const more = document.createElement("span");
      more.className = "face face-more";
      more.textContent = `+${list.length - MAX_FACES}`;
      frag.append(more);
    }
    faces.replaceChildren(frag);
    const names = list.map((u) => u.name);
    const watching = also ? "also watching" : "watching";
    let line = "";
    if (names.length === 1) line = `${names[0]} is ${watching}`;
    else if (names.length === 2) line = `${names[0]} and ${names[1]} are ${watching}`;
    else if (names.length > 2) line = `${names[0]}, ${names[1]} and ${names.length - 2} more are ${watching}`;
    text.textContent = line;
    box.dataset.count = String(list.length);
  }

  socket.on("presence.joined", (msg) => {
    if (msg.video_id !== videoId) return;
    bySid.set(msg.sid, msg.user);
    socket.emit("presence.here", { video_id: videoId, to: msg.sid });
    render();
  });
  socket.on("presence.here", (msg) => {
    if (msg.video_id !== videoId) return;
    bySid.set(msg.sid, msg.user);
    render();
  });
  socket.on("presence.left", (msg) => {
    if (msg.video_id !== videoId) return;
    if (msg.sid) bySid.delete(msg.sid);
    // A person whose access ended leaves with every socket at once (the server names them).
    else for (const [sid, user] of bySid) if (user.id === msg.user_id) bySid.delete(sid);
    render();
  });
  // After a reconnect everyone answers our new join again; old entries would only go stale.
  socket.on("disconnect", () => {
    bySid.clear();
    render();
  });

  return { people };
}

// One Socket.IO connection per page, authenticated by the session cookie.
import { io } from "/static/vendor/socket.io/socket.io.esm.min.js";

let socket = null;

export function connect() {
  if (!socket) {
    socket = io({ transports: ["websocket", "polling"], withCredentials: true });
  }
  return socket;
}

// Join a video's room; resolves with the server's answer ({ok, error}).
export function joinVideo(videoId) {
  return new Promise((resolve) => connect().emit("video.join", { video_id: videoId }, resolve));
}

// The admin page's health check: a job goes through the broker to a worker and back over Socket.IO.
import { api } from "../lib/api.js";
import { connect } from "../lib/realtime.js";

const button = document.getElementById("check-jobs");
const result = document.querySelector('#health [data-role="result"]');

button?.addEventListener("click", async () => {
  const socket = connect();
  result.textContent = "Sending a job to the workers…";
  const started = performance.now();
  let nonce = null;
  const timer = setTimeout(() => {
    result.textContent = "No worker answered within 15 s. Is `loupe worker` running?";
    result.dataset.state = "failed";
  }, 15000);
  socket.on("system.pong", (msg) => {
    if (msg.nonce !== nonce) return;
    clearTimeout(timer);
    result.textContent = `Worker ${msg.worker} answered in ${Math.round(performance.now() - started)} ms.`;
    result.dataset.state = "ok";
  });
  try {
    nonce = (await api("POST", "/api/system/ping")).nonce;
  } catch (err) {
    clearTimeout(timer);
    result.textContent = err.message;
  }
});

// Actions that cannot be undone (a password reset ends sessions and tokens) ask first.
document.addEventListener("submit", (event) => {
  const question = event.target.closest("form[data-confirm]")?.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

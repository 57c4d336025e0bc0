// Recording a debrief, opt-in: the host asks, everyone is asked to agree (a no stops it), a
// REC indicator says who agreed and who is awaited; once everyone agreed, this browser sends its
// camera and microphone to the recording gateway on one extra connection, closed when the
// recording stops. The recording then becomes a lesson video shared with the participants.
import { api, announce } from "./api.js";
import { publishToRecorder } from "./call.js";

export function createRecording({ room, debriefId, me, isHost, hostName, people, local, iceServers, refreshSenders }) {
  const indicator = room.querySelector('[data-role="rec"]');
  const label = room.querySelector('[data-role="rec-label"]');
  const detail = room.querySelector('[data-role="rec-detail"]');
  const link = room.querySelector('[data-role="rec-link"]');
  const button = room.querySelector('[data-action="record"]');
  const buttonLabel = room.querySelector('[data-role="record-label"]');
  const dialog = document.querySelector('[data-role="consent"]');
  const dialogText = dialog.querySelector('[data-role="consent-text"]');
  let state = { state: "off", consented: [], waiting_for: [], video_id: null, error: null };
  let publisher = null; // {pc, session}
  let publishing = null;
  let inRoom = false;
  let lastError = null;

  const name = (id) => people().get(id) || "someone";
  const names = (ids) => ids.map((id) => (id === me.id ? "you" : name(id))).join(", ");

  function closePublisher() {
    publisher?.pc.close();
    publisher = null;
  }

  async function publish() {
    if (publisher || publishing || !inRoom) return;
    publishing = (async () => {
      try {
        publisher = await publishToRecorder({
          post: (sdp) => api("POST", `/api/debriefs/${debriefId}/recording/offer`, { sdp }),
          iceServers: iceServers(),
          local,
        });
        if (state.state !== "on") closePublisher(); // stopped while we were connecting
      } catch (err) {
        announce(`Your camera could not reach the recorder: ${err.message}`);
        indicator.dataset.problem = err.message;
      } finally {
        publishing = null;
        render();
      }
    })();
  }

  function render() {
    const s = state.state;
    indicator.dataset.state = s;
    indicator.hidden = s === "off" && !state.error;
    link.hidden = true;
    if (s === "asking") {
      label.textContent = "Recording?";
      detail.textContent = state.waiting_for.length ? `Waiting for ${names(state.waiting_for)}` : "Starting…";
      indicator.title = `Agreed: ${names(state.consented) || "nobody yet"}. Waiting for: ${names(state.waiting_for)}.`;
    } else if (s === "on") {
      label.textContent = "REC";
      detail.textContent = publisher ? "Everyone agreed" : "Everyone agreed · connecting…";
      indicator.title = `Recording. Agreed: ${names(state.consented)}.`;
    } else if (s === "processing") {
      label.textContent = "Processing";
      detail.textContent = "The recording is being prepared";
      indicator.title = "";
    } else if (s === "done") {
      label.textContent = "Recorded";
      detail.textContent = "";
      link.hidden = !state.video_id;
      if (state.video_id) link.href = `/videos/${state.video_id}`;
    } else if (s === "failed") {
      label.textContent = "Recording failed";
      detail.textContent = state.error || "";
    } else {
      label.textContent = "Not recording";
      detail.textContent = state.error || "";
    }
    indicator.setAttribute("aria-label", `${label.textContent}. ${detail.textContent}`.trim());
    if (button) {
      const running = s === "asking" || s === "on";
      buttonLabel.textContent = running ? "Stop recording" : s === "processing" ? "Processing…" : "Ask to record";
      button.disabled = s === "processing";
      button.dataset.recording = String(running);
      button.setAttribute("aria-pressed", String(running));
    }
    // Everyone who has not answered is asked; the host's request is the host's consent.
    const mustAnswer = s === "asking" && state.waiting_for.includes(me.id);
    if (mustAnswer && inRoom && !dialog.open) {
      dialogText.textContent = `${hostName} wants to record this debrief; the recording will be shared with the participants.`;
      dialog.showModal();
      dialog.querySelector('[data-action="agree"]').focus();
    } else if (!mustAnswer && dialog.open) {
      dialog.close("gone");
    }
  }

  function update(next) {
    if (next.debrief_id != null && next.debrief_id !== debriefId) return;
    const before = state.state;
    state = {
      state: next.state,
      consented: next.consented || [],
      waiting_for: next.waiting_for || [],
      video_id: next.video_id ?? null,
      error: next.error ?? null,
    };
    if (state.state === "on") publish();
    else closePublisher();
    if (before !== state.state) {
      if (state.state === "on") announce("Recording started: everyone agreed.");
      else if (state.state === "asking") announce(`${hostName} asked to record this debrief.`);
      else if (state.state === "processing") announce("Recording stopped. It is being processed.");
      else if (state.state === "done") announce("The recording is ready.");
    }
    if (state.error && state.error !== lastError) announce(state.error);
    lastError = state.error;
    render();
  }

  dialog.addEventListener("close", async () => {
    const answer = dialog.returnValue;
    if (answer !== "agree" && answer !== "decline") return;
    try {
      const debrief = await api("POST", `/api/debriefs/${debriefId}/recording/consent`, { agree: answer === "agree" });
      update(debrief.recording);
    } catch (err) {
      announce(err.message);
    }
  });
  // Escape is a decline too: nothing records without a yes.
  dialog.addEventListener("cancel", () => { dialog.returnValue = "decline"; });

  button?.addEventListener("click", async () => {
    const running = state.state === "asking" || state.state === "on";
    button.disabled = true;
    try {
      const debrief = await api(running ? "DELETE" : "POST", `/api/debriefs/${debriefId}/recording`);
      update(debrief.recording);
    } catch (err) {
      announce(err.message);
    } finally {
      button.disabled = state.state === "processing";
    }
  });

  local.onChange(() => { if (publisher) refreshSenders(publisher.pc); });

  return {
    update,
    enter() {
      inRoom = true;
      if (state.state === "on") publish();
      render();
    },
    leave() {
      inRoom = false;
      closePublisher();
      if (dialog.open) dialog.close("gone");
    },
    get state() { return state; },
    get publisher() { return publisher; },
    isHost,
  };
}

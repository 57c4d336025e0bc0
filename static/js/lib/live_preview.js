// The go-live page's camera and microphone: the preview, device and quality choice (swapped into
// the live connection too), the mic level and the on/off toggles. getPc() is the WHIP
// connection while live; onChange() hears the stream open or close.
import { announce } from "./api.js";
import { createLevelMeter, fillDeviceSelects, mediaProblem } from "./devices.js";

const QUALITY = {
  hd: { width: 1280, height: 720, maxBitrate: 2_500_000 },
  sd: { width: 640, height: 480, maxBitrate: 900_000 },
};

export function createLivePreview({ root, getPc, onChange }) {
  const $ = (role) => root.querySelector(`[data-role="${role}"]`);
  const act = (name) => root.querySelector(`[data-action="${name}"]`);
  const preview = $("preview");
  const cameraSelect = $("camera");
  const micSelect = $("mic");
  const qualitySelect = $("quality");
  let local = null; // the MediaStream being previewed and sent

  function quality() {
    return QUALITY[qualitySelect.value] || QUALITY.hd;
  }

  function videoConstraints() {
    const q = quality();
    const base = { width: { ideal: q.width }, height: { ideal: q.height }, frameRate: { ideal: 30 } };
    return cameraSelect.value ? { ...base, deviceId: { exact: cameraSelect.value } } : base;
  }

  function audioConstraints() {
    const base = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    return micSelect.value ? { ...base, deviceId: { exact: micSelect.value } } : base;
  }

  function fillDevices() {
    return fillDeviceSelects({
      cameraSelect,
      micSelect,
      cameraId: local?.getVideoTracks()[0]?.getSettings().deviceId,
      micId: local?.getAudioTracks()[0]?.getSettings().deviceId,
    });
  }

  async function openDevices() {
    showBlank(null);
    try {
      local = await navigator.mediaDevices.getUserMedia({ video: videoConstraints(), audio: audioConstraints() });
    } catch (err) {
      local = null;
      showBlank(mediaProblem(err).text, { retry: true });
      onChange();
      return;
    }
    preview.srcObject = local;
    await fillDevices();
    listen(local.getAudioTracks()[0]);
    onChange();
    refreshToggles();
  }

  function showBlank(text, { retry = false } = {}) {
    const off = $("camera-off");
    off.hidden = !text;
    if (text) $("camera-off-text").textContent = text;
    act("retry-devices").hidden = !retry;
  }

  // Swap one kind of track (a new device) in the preview and, while live, in the connection.
  async function switchDevice(kind) {
    if (!local) return openDevices();
    let fresh;
    try {
      const got = await navigator.mediaDevices.getUserMedia(kind === "video" ? { video: videoConstraints() } : { audio: audioConstraints() });
      fresh = kind === "video" ? got.getVideoTracks()[0] : got.getAudioTracks()[0];
    } catch (err) {
      announce(mediaProblem(err).text);
      return;
    }
    const old = kind === "video" ? local.getVideoTracks()[0] : local.getAudioTracks()[0];
    if (old) {
      fresh.enabled = old.enabled;
      local.removeTrack(old);
      old.stop();
    }
    local.addTrack(fresh);
    const sender = getPc()?.getSenders().find((s) => s.track?.kind === kind || (s.track === null && old && kind === old.kind));
    await sender?.replaceTrack(fresh);
    if (kind === "audio") listen(fresh);
    announce(kind === "video" ? "Camera changed." : "Microphone changed.");
  }

  async function changeQuality() {
    const track = local?.getVideoTracks()[0];
    const q = quality();
    if (track) await track.applyConstraints({ width: { ideal: q.width }, height: { ideal: q.height }, frameRate: { ideal: 30 } }).catch(() => {});
    const sender = getPc()?.getSenders().find((s) => s.track?.kind === "video");
    if (sender) {
      const params = sender.getParameters();
      if (params.encodings?.length) {
        params.encodings[0].maxBitrate = q.maxBitrate;
        await sender.setParameters(params).catch(() => {});
      }
    }
  }

  // The microphone's level, so the teacher sees the class is heard before going live.
  let meter = null;
  function listen(track) {
    meter ||= createLevelMeter($("level-bar"));
    meter.follow(track ?? null);
  }

  function refreshToggles() {
    for (const [name, kind, what] of [["toggle-mic", "audio", "Microphone"], ["toggle-camera", "video", "Camera"]]) {
      const track = kind === "audio" ? local?.getAudioTracks()[0] : local?.getVideoTracks()[0];
      const button = act(name);
      const on = Boolean(track?.enabled);
      button.disabled = !track;
      button.setAttribute("aria-pressed", String(on));
      button.setAttribute("aria-label", on ? `${what} on: turn off` : `${what} off: turn on`);
    }
    const camera = local?.getVideoTracks()[0];
    if (local && camera && !camera.enabled) showBlank("Your camera is off");
    else if (local) showBlank(null);
  }

  function toggle(kind) {
    const track = kind === "audio" ? local?.getAudioTracks()[0] : local?.getVideoTracks()[0];
    if (!track) return;
    track.enabled = !track.enabled;
    refreshToggles();
    const what = kind === "audio" ? "Microphone" : "Camera";
    announce(`${what} ${track.enabled ? "on" : "off"}.`);
  }

  function stopDevices() {
    meter?.stop();
    meter = null;
    for (const track of local?.getTracks() ?? []) track.stop();
    preview.srcObject = null;
  }

  cameraSelect.addEventListener("change", () => switchDevice("video"));
  micSelect.addEventListener("change", () => switchDevice("audio"));
  qualitySelect.addEventListener("change", changeQuality);
  act("toggle-mic").addEventListener("click", () => toggle("audio"));
  act("toggle-camera").addEventListener("click", () => toggle("video"));
  act("retry-devices").addEventListener("click", openDevices);

  return { open: openDevices, stop: stopDevices, quality, stream: () => local };
}

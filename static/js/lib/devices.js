// The camera and microphone before a call or a live lesson: what went wrong in words, the
// device pickers and the microphone's level. Used by the debrief lobby (and its in-call devices
// dialog) and the go-live page.

// What a getUserMedia failure means for the person, and what they can do about it.
export function mediaProblem(err) {
  const name = err?.name || "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return {
      kind: "denied",
      text: "Your browser blocked the camera and microphone. Allow them in the address bar's site settings and try again.",
    };
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return { kind: "missing", text: "No camera or microphone was found. Connect one, then try again." };
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return { kind: "busy", text: "Another application is using the camera or microphone. Close it and try again." };
  }
  return { kind: "error", text: `The camera and microphone could not start (${err?.message || name || "unknown error"}).` };
}

// Fill a camera and a microphone <select> with the devices there are, keeping the ones in use.
export async function fillDeviceSelects({ cameraSelect, micSelect, cameraId = "", micId = "" }) {
  let all;
  try {
    all = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  const fill = (select, kind, current, none) => {
    const list = all.filter((d) => d.kind === kind && d.deviceId);
    const options = list.map((d, i) => new Option(d.label || `${none} ${i + 1}`, d.deviceId));
    if (!options.length) options.push(new Option(`No ${none.toLowerCase()} found`, ""));
    select.replaceChildren(...options);
    select.value = current && list.some((d) => d.deviceId === current) ? current : options[0].value;
    // Before permission is given, browsers list one unnamed device: nothing to choose yet.
    select.disabled = !list.length || (list.length === 1 && !list[0].label);
  };
  fill(cameraSelect, "videoinput", cameraId, "Camera");
  fill(micSelect, "audioinput", micId, "Microphone");
}

// The microphone's level on a bar (its --level custom property, 0–1), so people see the
// microphone hears them. follow(track) switches to another track (or none); stop() ends it.
export function createLevelMeter(bar) {
  let context = null;
  let analyser = null;
  let source = null;
  let track = null;
  let frame = 0;
  let stopped = false;
  const samples = new Uint8Array(512);
  const resume = () => context?.resume();

  function follow(next) {
    if (stopped || next === track) return;
    track = next;
    source?.disconnect();
    source = null;
    if (!track || !window.AudioContext) return;
    context ||= new AudioContext();
    analyser ||= Object.assign(context.createAnalyser(), { fftSize: samples.length });
    source = context.createMediaStreamSource(new MediaStream([track]));
    source.connect(analyser);
  }

  function loop() {
    frame = requestAnimationFrame(loop);
    if (!analyser || !source || !track?.enabled) {
      bar.style.setProperty("--level", "0");
      return;
    }
    analyser.getByteTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += ((v - 128) / 128) ** 2;
    bar.style.setProperty("--level", Math.min(1, Math.sqrt(sum / samples.length) * 4).toFixed(3));
  }

  // Browsers start audio only after a gesture; any click will do.
  document.addEventListener("click", resume, { once: true });
  loop();
  return {
    follow,
    stop() {
      stopped = true;
      cancelAnimationFrame(frame);
      document.removeEventListener("click", resume);
      source?.disconnect();
      context?.close();
      context = analyser = source = track = null;
    },
  };
}

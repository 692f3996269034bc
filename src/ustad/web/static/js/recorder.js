// The microphone: opened once, on the learner's first press, and kept open for the
// session so that every later press starts recording at once (no permission prompt or
// device start-up cutting off the first syllable) and the level meter always has input.

const PREFERRED_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

export class MicrophoneError extends Error {
  /** @param {"unsupported" | "denied" | "unavailable"} reason */
  constructor(reason, cause) {
    super(reason);
    this.reason = reason;
    this.cause = cause;
  }
}

export class Microphone {
  constructor() {
    this.stream = null;
    this.context = null;
    this.analyser = null;
    this.samples = null;
    this.recorder = null;
    this.chunks = [];
  }

  get recording() {
    return this.recorder !== null && this.recorder.state === "recording";
  }

  /** The container the browser records in (WebM/Opus where it has it). */
  get mimeType() {
    if (typeof MediaRecorder.isTypeSupported !== "function") return "";
    return PREFERRED_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) ?? "";
  }

  async open() {
    if (this.stream !== null) return;
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") {
      throw new MicrophoneError("unsupported");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
    } catch (error) {
      const denied = error?.name === "NotAllowedError" || error?.name === "SecurityError";
      throw new MicrophoneError(denied ? "denied" : "unavailable", error);
    }
    this.context = new AudioContext();
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.context.createMediaStreamSource(this.stream).connect(this.analyser);
  }

  start() {
    this.chunks = [];
    const mimeType = this.mimeType;
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : {});
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size > 0) this.chunks.push(event.data);
    });
    this.recorder.start();
    if (this.context.state === "suspended") this.context.resume();
  }

  /** @returns {Promise<Blob>} the utterance (empty if nothing was captured) */
  stop() {
    const recorder = this.recorder;
    this.recorder = null;
    if (recorder === null || recorder.state === "inactive") return Promise.resolve(new Blob());
    return new Promise((resolve) => {
      recorder.addEventListener(
        "stop",
        () => resolve(new Blob(this.chunks, { type: recorder.mimeType })),
        { once: true },
      );
      recorder.stop();
    });
  }

  /** Stop recording and throw the audio away (the connection dropped). */
  cancel() {
    const recorder = this.recorder;
    this.recorder = null;
    if (recorder !== null && recorder.state !== "inactive") recorder.stop();
    this.chunks = [];
  }

  /** Loudness now, 0 (silence) to 1, scaled so that normal speech fills most of it. */
  level() {
    if (this.analyser === null) return 0;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const sample of this.samples) sum += sample * sample;
    const rms = Math.sqrt(sum / this.samples.length);
    return Math.min(1, rms * 6);
  }
}

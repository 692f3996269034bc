// The /ws/learn connection: pairs each speaking JSON frame with the binary audio
// frame that follows it, and reconnects with backoff when the connection drops.

const BACKOFF_MS = [1000, 2000, 4000, 8000];
const MAX_BACKOFF_MS = 10000;

/** Events: "open", "message" (detail {message, audio}), "close" (detail {retryInMs}). */
export class TutorSocket extends EventTarget {
  /** @param {() => string} url called on every (re)connect, so it can change */
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.pending = null; // a speaking JSON frame waiting for its audio frame
    this.failures = 0;
    this.retryTimer = null;
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = new WebSocket(this.url());
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.failures = 0;
      this.emit("open", {});
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.pending = null;
      const retryInMs = this.nextDelay();
      this.failures += 1;
      this.retryTimer = setTimeout(() => this.connect(), retryInMs);
      this.emit("close", { retryInMs });
    });
  }

  /** Skip the wait after a drop (the learner pressed "reconnect now"). */
  reconnectNow() {
    if (this.ws === null) this.connect();
  }

  /** @returns {boolean} whether the message went out */
  send(message) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** An utterance as one binary frame, preceded by the language mode it is in. */
  sendUtterance(blob, languageMode) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify({ language_mode: languageMode }));
    this.ws.send(blob);
    return true;
  }

  receive(data) {
    if (typeof data !== "string") {
      const spoken = this.pending;
      this.pending = null;
      if (spoken !== null) this.emit("message", { message: spoken, audio: data });
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // the server only sends JSON objects; nothing sensible to do with noise
    }
    if ("audio_format" in message) {
      this.pending = message; // protocol: exactly one binary frame follows
    } else {
      this.emit("message", { message, audio: null });
    }
  }

  nextDelay() {
    const base = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    const jitter = Math.random() * 0.2 * base; // spread the reconnects of many pages
    return Math.min(MAX_BACKOFF_MS, Math.round(base + jitter));
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

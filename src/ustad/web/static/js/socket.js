// The /ws/learn connection: pairs each speaking JSON frame with the binary audio
// frame that follows it, and when the connection drops reconnects with backoff (a
// bounded number of times) presenting the last resume_token, so the server continues
// the same session where it was.

const BACKOFF_MS = [1000, 2000, 4000, 8000];
const MAX_BACKOFF_MS = 10000;
/** Automatic reconnects in a row; after them the learner presses "reconnect now". */
export const MAX_TRIES = 8;
/** Close code: the session was resumed by another connection (another tab). */
export const SUPERSEDED = 4000;

/**
 * How long to wait before reconnecting after a close, or null to wait for the learner
 * (the session went on elsewhere, or too many tries failed).
 * @param {number} code the close code @param {number} failures closes in a row so far
 * @param {() => number} random in [0, 1), for the jitter
 */
export function nextRetry(code, failures, random = Math.random) {
  if (code === SUPERSEDED || failures >= MAX_TRIES) return null;
  const base = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
  const jitter = random() * 0.2 * base; // spread the reconnects of many pages
  return Math.min(MAX_BACKOFF_MS, Math.round(base + jitter));
}

/**
 * Events: "open", "message" (detail {message, audio}), "close" (detail {retryInMs,
 * superseded}; retryInMs is null when no reconnect is scheduled).
 */
export class TutorSocket extends EventTarget {
  /** @param {(resumeToken: string | null) => string} url called on every (re)connect */
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.pending = null; // a speaking JSON frame waiting for its audio frame
    this.failures = 0;
    this.retryTimer = null;
    this.resumeToken = null; // the latest one the server sent
    this.resumedWith = null; // the token the current connection presented
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.resumedWith = this.resumeToken;
    const ws = new WebSocket(this.url(this.resumeToken));
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.failures = 0;
      this.emit("open", {});
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.pending = null;
      const superseded = event.code === SUPERSEDED;
      if (superseded) this.resumeToken = null; // spent: the session lives elsewhere now
      const retryInMs = nextRetry(event.code, this.failures);
      this.failures += 1;
      if (retryInMs !== null) this.retryTimer = setTimeout(() => this.connect(), retryInMs);
      this.emit("close", { retryInMs, superseded });
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
    if (typeof message.resume_token === "string") this.resumeToken = message.resume_token;
    if ("audio_format" in message) {
      this.pending = message; // protocol: exactly one binary frame follows
    } else {
      this.emit("message", { message, audio: null });
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

// Playing the tutor's replies and single words. A reply always settles, whether it
// played to the end, was skipped, or could not play, so the cycle never waits forever.

const MEDIA_TYPES = { mp3: "audio/mpeg", opus: "audio/ogg", wav: "audio/wav" };

/** Events: "blocked" (the browser refused to start playback without a gesture). */
export class ReplyPlayer extends EventTarget {
  /** @param {HTMLAudioElement} element */
  constructor(element) {
    super();
    this.element = element;
    this.settle = null;
    this.url = null;
    // Only events of the reply now loaded count (not a late one of a replaced source).
    element.addEventListener("ended", () => this.current() && this.finish("ended"));
    element.addEventListener("error", () => this.current() && this.finish("failed"));
  }

  current() {
    return this.url !== null && this.element.src === this.url;
  }

  get playing() {
    return this.settle !== null;
  }

  /**
   * @param {ArrayBuffer | null} audio the binary frame
   * @param {string} format the message's audio_format
   * @returns {Promise<"ended" | "skipped" | "failed">}
   */
  play(audio, format) {
    this.finish("skipped");
    if (audio === null || audio.byteLength === 0) return Promise.resolve("failed");
    const done = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.url = URL.createObjectURL(new Blob([audio], { type: MEDIA_TYPES[format] ?? "" }));
    this.element.src = this.url;
    this.start();
    return done;
  }

  /** Try again after "blocked", from the learner's own click. */
  start() {
    this.element.play().catch((error) => {
      if (error?.name === "NotAllowedError") {
        this.dispatchEvent(new Event("blocked"));
      } else if (error?.name !== "AbortError") {
        this.finish("failed");
      }
    });
  }

  skip() {
    this.finish("skipped");
  }

  finish(outcome) {
    const settle = this.settle;
    this.settle = null;
    if (!this.element.paused) this.element.pause();
    if (this.url !== null) {
      this.element.removeAttribute("src");
      URL.revokeObjectURL(this.url);
      this.url = null;
    }
    if (settle !== null) settle(outcome);
  }
}

/** Speaks one English word through POST /v1/audio/speech (kept for the page's life). */
export class WordSpeaker {
  /** @param {Record<string, string>} headers the learner's credentials, if any */
  constructor(headers = {}) {
    this.headers = headers;
    this.audio = new Audio();
    this.urls = new Map();
  }

  async say(word) {
    let url = this.urls.get(word);
    if (url === undefined) {
      const response = await fetch("/v1/audio/speech", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...this.headers },
        body: JSON.stringify({ input: word, voice: "en", response_format: "mp3" }),
      });
      if (!response.ok) throw new Error(`speech request failed: ${response.status}`);
      url = URL.createObjectURL(await response.blob());
      this.urls.set(word, url);
    }
    this.audio.src = url;
    await this.audio.play();
  }

  stop() {
    this.audio.pause();
  }
}

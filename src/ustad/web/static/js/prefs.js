// What the browser remembers between visits: who the learner is and which language
// the tutor should speak. Storage can be unavailable (private windows, strict
// settings); the page then still works, it just forgets on reload.

const LEARNER_KEY = "ustad.learner_id";
const MODE_KEY = "ustad.language_mode";
const MODES = ["urdu", "english"];

export class Preferences {
  /** @param {Storage | null} storage */
  constructor(storage) {
    this.storage = storage;
    this.learnerId = this.read(LEARNER_KEY) || this.remember(LEARNER_KEY, newId());
    const mode = this.read(MODE_KEY);
    this.languageMode = MODES.includes(mode) ? mode : "urdu";
  }

  setLanguageMode(mode) {
    if (!MODES.includes(mode)) throw new Error(`unknown language mode ${mode}`);
    this.languageMode = mode;
    this.remember(MODE_KEY, mode);
  }

  read(key) {
    try {
      return this.storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  remember(key, value) {
    try {
      this.storage?.setItem(key, value);
    } catch {
      // not persisted; the value still holds for this page
    }
    return value;
  }
}

function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; a LAN address over plain http is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

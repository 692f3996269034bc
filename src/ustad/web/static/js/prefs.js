// What the browser remembers between visits: who the learner is, their token when
// the deployment requires one, and which language the tutor should speak. Storage
// can be unavailable (private windows, strict settings); the page then still works,
// it just forgets on reload.
//
// With learner tokens (USTAD_AUTH__JWT_SECRET), the deployment's sign-in opens the
// page as /#token=<jwt>: the token is kept, removed from the address bar, and its
// `sub` is the learner id. Without a token the learner id is a random UUID.

const LEARNER_KEY = "ustad.learner_id";
const TOKEN_KEY = "ustad.token";
const MODE_KEY = "ustad.language_mode";
const MODES = ["urdu", "english"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class Preferences {
  /**
   * @param {Storage | null} storage
   * @param {Location | null} place the page's location (a token may ride on its hash)
   */
  constructor(storage, place = null) {
    this.storage = storage;
    const linked = place ? new URLSearchParams(place.hash.replace(/^#/, "")).get("token") : null;
    if (linked) {
      this.remember(TOKEN_KEY, linked);
      history.replaceState(null, "", place.pathname + place.search);
    }
    this.token = linked || this.read(TOKEN_KEY);
    const subject = this.token ? tokenSubject(this.token) : null;
    const stored = this.read(LEARNER_KEY);
    this.learnerId =
      subject || (UUID.test(stored || "") ? stored : this.remember(LEARNER_KEY, newId()));
    const mode = this.read(MODE_KEY);
    this.languageMode = MODES.includes(mode) ? mode : "urdu";
  }

  /** Headers that carry the learner's token to REST routes (none without one). */
  authHeaders() {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
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
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The `sub` of a JWT (read, not verified: the server verifies it). */
function tokenSubject(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
    return typeof claims.sub === "string" && claims.sub ? claims.sub : null;
  } catch {
    return null;
  }
}

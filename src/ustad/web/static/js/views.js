// Rendering: the page is a function of the tutor's state. Only textContent is ever
// set from server data, never HTML.

import { hint } from "./i18n.js";

// An overall score from which a failed attempt is "nearly there" (NEARLY_MARK in tutor/feedback.py).
const NEARLY_MARK = 60;
const STEPS = ["urdu", "listen", "words", "repeat", "feedback"];
const ARABIC = /[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]/;

const STATUS = {
  correct: { icon: "✓", label: "said well" },
  mispronounced: { icon: "~", label: "needs work" },
  omitted: { icon: "✕", label: "missed" },
  inserted: { icon: "+", label: "extra word" },
};

// ARPAbet phones (the assessment's "phones") as a learner reads them: letters, not symbols.
const PHONE_LETTERS = {
  AA: "ah", AE: "a", AH: "u", AO: "aw", AW: "ow", AY: "eye", EH: "e", ER: "er", EY: "ay",
  IH: "i", IY: "ee", OW: "oh", OY: "oy", UH: "oo", UW: "oo", B: "b", CH: "ch", D: "d",
  DH: "th", F: "f", G: "g", HH: "h", JH: "j", K: "k", L: "l", M: "m", N: "n", NG: "ng",
  P: "p", R: "r", S: "s", SH: "sh", T: "t", TH: "th", V: "v", W: "w", Y: "y", Z: "z",
  ZH: "zh",
};

/** A phone (or "IH S", a vowel heard before it) in learner's letters. */
export function phoneLetters(phone) {
  return phone
    .split(" ")
    .map((p) => PHONE_LETTERS[p] ?? p.toLowerCase())
    .join(" ");
}

/**
 * The sounds of a word that needs work, from the assessment's optional per-word
 * "phones": each phone in letters, whether it was flagged, and a note on what was
 * heard ("v heard as w", "h not heard", "extra i before s"). Null for a word the
 * tutor is happy with or one without phones.
 */
export function phoneNotes(word) {
  if (word.status !== "mispronounced" || !Array.isArray(word.phones) || word.phones.length === 0) {
    return null;
  }
  const phones = word.phones.map((p) => ({ text: phoneLetters(p.phone), flagged: p.status !== "ok" }));
  const notes = word.phones
    .filter((p) => p.status !== "ok")
    .map((p) => {
      const said = phoneLetters(p.phone);
      if (!p.heard) return `${said} not heard`;
      const heard = p.heard.split(" ");
      if (heard.length > 1 && heard.at(-1) === p.phone) {
        return `extra ${phoneLetters(heard[0])} before ${said}`;
      }
      return `${said} heard as ${phoneLetters(p.heard)}`;
    });
  return { phones, notes };
}

// A run of Urdu script, with the spaces, digits and punctuation inside it.
const URDU_RUN =
  /[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF](?:[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF\s\d\p{P}]*[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF])?/gu;

/**
 * Text in the right direction and font. The paragraph takes the direction of its
 * first letter; runs in the other script ("You said: <Urdu>. Now repeat after me.",
 * or an English sentence quoted in an Urdu prompt) are their own spans, so each keeps
 * its direction, its punctuation in place and its own font.
 */
export function setText(element, text) {
  const firstLetter = text.match(/\p{L}/u)?.[0] ?? "";
  const urduFirst = ARABIC.test(firstLetter);
  element.lang = urduFirst ? "ur" : "en";
  element.dir = urduFirst ? "rtl" : "ltr";
  const parts = [];
  let position = 0;
  const run = (chunk, urdu) => {
    if (chunk === "") return;
    if (urdu === urduFirst || !/\p{L}/u.test(chunk)) {
      parts.push(chunk);
      return;
    }
    const span = element.ownerDocument.createElement("span");
    span.lang = urdu ? "ur" : "en";
    span.dir = urdu ? "rtl" : "ltr";
    span.textContent = chunk;
    parts.push(span);
  };
  for (const match of text.matchAll(URDU_RUN)) {
    run(text.slice(position, match.index), false);
    run(match[0], true);
    position = match.index + match[0].length;
  }
  run(text.slice(position), false);
  element.replaceChildren(...parts);
}

/** The word as the assessment compares it (no case, no punctuation). */
export function bareWord(word) {
  return word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, "");
}

export class View {
  /** @param {Document} doc */
  constructor(doc) {
    const byId = (id) => doc.getElementById(id);
    this.doc = doc;
    this.root = doc.body;
    this.connection = byId("connection");
    this.connectionText = byId("connection-text");
    this.banner = byId("banner");
    this.bannerText = byId("banner-text");
    this.modeButtons = [...doc.querySelectorAll("[data-mode]")];
    this.steps = [...doc.querySelectorAll("#stepper [data-step]")];
    this.tutorText = byId("tutor-text");
    this.notice = byId("notice");
    this.sentenceCard = byId("sentence");
    this.urdu = byId("urdu-sentence");
    this.english = byId("english-sentence");
    this.wordsBlock = byId("words-block");
    this.chips = byId("chips");
    this.result = byId("result");
    this.intro = byId("intro");
    this.nextAction = byId("next-action");
    this.record = byId("record");
    this.recordLabel = byId("record-label");
    this.meter = byId("meter");
    this.meterFill = byId("meter-fill");
    this.skip = byId("skip-audio");
    this.play = byId("play-audio");
    this.ready = byId("ready");
    this.nextSentence = byId("next-sentence");
    this.shown = { sentence: null, assessment: null, mode: null };
  }

  render(state) {
    const { phase, mode } = state;
    this.root.dataset.phase = phase;
    this.renderConnection(state);
    for (const button of this.modeButtons) {
      button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
    }
    this.renderSteps(state);
    if (state.tutorText !== this.tutorText.textContent) setText(this.tutorText, state.tutorText);
    this.notice.hidden = state.notice === null;
    if (state.notice !== null) {
      setText(this.notice, state.notice.text);
      this.notice.dataset.kind = state.notice.kind;
    }
    this.renderSentence(state);
    this.renderAssessment(state);
    this.intro.hidden = state.sentence !== null || state.assessment !== null;
    this.renderControls(state);
  }

  renderConnection({ connection, mode, retryInMs, superseded }) {
    this.connection.dataset.state = connection;
    this.connectionText.textContent =
      connection === "open" ? "Connected" : connection === "lost" ? "Offline" : "Connecting…";
    this.banner.hidden = connection !== "lost";
    if (connection === "lost") {
      const text =
        retryInMs === null
          ? hint(superseded ? "superseded" : "gaveUp", mode)
          : hint("lost", mode, { seconds: Math.max(1, Math.round(retryInMs / 1000)) });
      setText(this.bannerText, text);
    }
  }

  renderSteps({ step, done }) {
    const current = STEPS.indexOf(step);
    this.steps.forEach((item, index) => {
      const state = done || index < current ? "done" : index === current ? "current" : "todo";
      item.dataset.state = state;
      if (state === "current") item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
    });
  }

  renderSentence({ sentence, assessment, phase, step, done }) {
    this.sentenceCard.hidden = sentence === null;
    if (sentence === null) {
      this.shown.sentence = null;
      return;
    }
    if (this.shown.sentence !== sentence || this.shown.assessment !== assessment) {
      setText(this.urdu, sentence.urdu);
      this.urdu.lang = "ur";
      this.urdu.dir = "rtl";
      this.english.textContent = sentence.english;
      this.chips.replaceChildren(...sentence.words.map((word) => this.chip(word, assessment)));
      this.shown.sentence = sentence;
    }
    // The words stay in place from practice on (no jumping while recording); they speak
    // whenever nothing else is being said or heard.
    this.wordsBlock.hidden = !["words", "repeat", "feedback"].includes(step);
    const usable = phase === "practice" || phase === "say_english" || (phase === "say_urdu" && done);
    for (const chip of this.chips.querySelectorAll("button")) chip.disabled = !usable;
  }

  chip(word, assessment) {
    const li = this.doc.createElement("li");
    const button = this.doc.createElement("button");
    button.type = "button";
    button.className = "chip";
    button.textContent = word;
    button.dataset.word = word;
    const weak = assessment?.words.some(
      (w) => (w.status === "mispronounced" || w.status === "omitted") && bareWord(w.word) === bareWord(word),
    );
    button.classList.toggle("chip-weak", Boolean(weak));
    button.setAttribute("aria-label", weak ? `Hear “${word}” (practise this one)` : `Hear “${word}”`);
    li.append(button);
    return li;
  }

  renderAssessment({ assessment, feedbackText, attempt }) {
    this.result.hidden = assessment === null;
    if (assessment === null || this.shown.assessment === assessment) {
      this.shown.assessment = assessment;
      return;
    }
    this.shown.assessment = assessment;
    const byId = (id) => this.doc.getElementById(id);
    byId("score-overall").textContent = String(Math.round(assessment.overall));
    byId("score-ring").dataset.passed = String(assessment.passed);
    byId("result-title").textContent = resultTitle(assessment);
    byId("result-attempt").textContent = attempt ? `Attempt ${attempt}` : "";
    for (const aspect of ["accuracy", "completeness", "fluency"]) {
      const value = Math.round(assessment[aspect]);
      byId(`score-${aspect}`).textContent = String(value);
      byId(`bar-${aspect}`).style.width = `${value}%`;
    }
    byId("target-words").replaceChildren(...assessment.words.map((w) => this.assessedWord(w)));
    setText(byId("feedback-text"), feedbackText);
    byId("transcript").textContent = assessment.transcript || "(nothing recognised)";
  }

  assessedWord(word) {
    const status = STATUS[word.status] ?? STATUS.correct;
    const span = this.doc.createElement("span");
    span.className = `word word-${word.status}`;
    const icon = this.doc.createElement("span");
    icon.className = "word-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = status.icon;
    const text = this.doc.createElement("span");
    text.className = "word-text";
    text.textContent = word.word;
    const label = this.doc.createElement("span");
    label.className = "visually-hidden";
    const heard = word.status === "mispronounced" && word.heard ? `, heard “${word.heard}”` : "";
    label.textContent = ` (${status.label}${heard})`;
    span.append(icon, text, label);
    if (word.status === "mispronounced" && word.heard) span.title = `heard “${word.heard}”`;
    const sounds = phoneNotes(word);
    if (sounds !== null) span.append(this.wordPhones(sounds));
    return span;
  }

  /** The sounds of a word under it, the flagged ones marked, then what was heard. */
  wordPhones({ phones, notes }) {
    const line = this.doc.createElement("span");
    line.className = "word-phones";
    for (const phone of phones) {
      const item = this.doc.createElement("span");
      item.className = phone.flagged ? "phone phone-flagged" : "phone";
      item.textContent = phone.text;
      line.append(item);
    }
    if (notes.length > 0) {
      const note = this.doc.createElement("span");
      note.className = "phone-note";
      note.textContent = notes.join(", ");
      line.append(note);
    }
    return line;
  }

  renderControls(state) {
    const { phase, mode } = state;
    const canRecord = phase === "say_urdu" || phase === "say_english" || phase === "recording";
    this.record.disabled = !canRecord;
    // While the tutor speaks or words are practised, the other button is the next step.
    this.record.hidden = phase === "practice" || phase === "playing";
    this.record.setAttribute("aria-pressed", String(phase === "recording"));
    this.recordLabel.textContent =
      phase === "recording" ? "Tap to stop" : phase === "thinking" ? "Thinking…" : "Tap to speak";
    this.record.classList.toggle("primary", canRecord);
    this.meter.hidden = phase !== "recording";
    this.skip.hidden = phase !== "playing";
    this.play.hidden = !(phase === "playing" && state.blocked);
    this.ready.hidden = phase !== "practice";
    this.ready.textContent = state.afterFeedback ? "Try again" : "I'm ready to say it";
    this.nextSentence.hidden = !(
      state.sentence !== null && ["practice", "say_english"].includes(phase)
    );
    setText(this.nextAction, hint(this.hintKey(state), mode));
  }

  hintKey({ phase, connection, recordingFor, afterFeedback, passed, blocked }) {
    if (connection === "lost") return "offline";
    switch (phase) {
      case "connecting":
        return "connecting";
      case "say_urdu":
        return passed ? "sayNewUrdu" : "sayUrdu";
      case "recording":
        return recordingFor === "english" ? "recordingEnglish" : "recordingUrdu";
      case "thinking":
        return "thinking";
      case "playing":
        return blocked ? "blocked" : "listening";
      case "practice":
        return afterFeedback ? "practiceAgain" : "practice";
      case "say_english":
        return "sayEnglish";
      default:
        return "offline";
    }
  }

  /** Move the level meter (called every animation frame while recording). */
  showLevel(level) {
    this.meterFill.style.transform = `scaleX(${level.toFixed(3)})`;
  }
}

/** The heading over an assessment: the same tiers as the spoken feedback (tutor/feedback.py). */
function resultTitle(assessment) {
  if (assessment.passed) return "Well done!";
  return assessment.overall >= NEARLY_MARK ? "Almost there, try again" : "Let's try that again";
}

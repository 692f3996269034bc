// The tutor page: follows the /ws/learn cycle and always offers one clear next action.
//
// Phases: connecting, say_urdu, recording, thinking (an utterance or ack is being
// answered), playing (a reply is spoken), practice (word by word), say_english.

import { History } from "./history.js";
import { hint } from "./i18n.js";
import { ReplyPlayer, WordSpeaker } from "./player.js";
import { Preferences } from "./prefs.js";
import { Microphone, MicrophoneError } from "./recorder.js";
import { TutorSocket } from "./socket.js";
import { View } from "./views.js";

const MAX_RECORDING_MS = 25000; // the server refuses utterances past 30 s
const REPLY_TIMEOUT_MS = 90000;

class Tutor {
  constructor(doc) {
    this.prefs = new Preferences(storageOrNull(), location);
    this.view = new View(doc);
    this.mic = new Microphone();
    this.player = new ReplyPlayer(doc.getElementById("reply-audio"));
    this.words = new WordSpeaker(this.prefs.authHeaders());
    this.history = new History(this.prefs.learnerId, this.prefs.authHeaders(), {
      summary: doc.getElementById("history-summary"),
      list: doc.getElementById("history-list"),
      empty: doc.getElementById("history-empty"),
    });
    this.socket = new TutorSocket((resumeToken) => this.socketUrl(resumeToken));
    this.state = {
      phase: "connecting",
      connection: "connecting",
      mode: this.prefs.languageMode,
      retryInMs: 0,
      superseded: false,
      step: "urdu",
      done: false,
      sentence: null,
      assessment: null,
      feedbackText: "",
      attempt: null,
      tutorText: "",
      notice: null,
      recordingFor: "urdu",
      afterFeedback: false,
      passed: false,
      blocked: false,
    };
    this.before = "say_urdu"; // the phase to return to if an utterance is refused
    this.epoch = 0; // bumped on every drop, so work begun before it is not continued
    this.everConnected = false;
    this.interacted = false;
    this.recordingTimer = null;
    this.replyTimer = null;
    this.bind(doc);
  }

  start() {
    this.render();
    this.socket.connect();
  }

  socketUrl(resumeToken) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({
      learner_id: this.prefs.learnerId,
      language_mode: this.state.mode,
    });
    // The server continues the dropped session where it was (or says it could not).
    if (resumeToken) query.set("resume_token", resumeToken);
    // Browsers cannot set headers on a WebSocket, so the token rides in the query.
    if (this.prefs.token) query.set("token", this.prefs.token);
    return `${scheme}://${location.host}/ws/learn?${query}`;
  }

  bind(doc) {
    const started = () => {
      this.interacted = true;
    };
    doc.addEventListener("pointerdown", started, { once: true });
    doc.addEventListener("keydown", started, { once: true });
    this.socket.addEventListener("open", () => this.connected());
    this.socket.addEventListener("close", (event) => this.dropped(event.detail));
    this.socket.addEventListener("message", (event) => this.received(event.detail));
    this.player.addEventListener("blocked", () => this.update({ blocked: true }));
    this.view.record.addEventListener("click", () => this.toggleRecording());
    this.view.skip.addEventListener("click", () => this.player.skip());
    this.view.play.addEventListener("click", () => {
      this.update({ blocked: false });
      this.player.start();
    });
    this.view.ready.addEventListener("click", () => this.sendAck("word_by_word_complete"));
    this.view.nextSentence.addEventListener("click", () => this.sendAck("next_sentence"));
    doc.getElementById("reconnect-now").addEventListener("click", () => this.socket.reconnectNow());
    for (const button of this.view.modeButtons) {
      button.addEventListener("click", () => this.setMode(button.dataset.mode));
    }
    this.view.chips.addEventListener("click", (event) => {
      const chip = event.target.closest("button[data-word]");
      if (chip !== null) this.sayWord(chip.dataset.word);
    });
  }

  // --- connection ---------------------------------------------------------------

  connected() {
    const again = this.everConnected;
    this.everConnected = true;
    if (this.socket.resumedWith !== null) {
      // Asked to resume: the server's "session" message says whether it did.
      this.update({ connection: "open", superseded: false });
      return;
    }
    this.newSession(again);
  }

  /** The server answered a request to resume: carry on, or start afresh. */
  sessionAnswered(message) {
    if (!message.resumed) {
      this.newSession(true);
      return;
    }
    // What the step expects next follows (if anything); until then the Urdu step.
    this.update({ phase: "say_urdu", notice: { kind: "info", text: hint("resumed", this.state.mode) } });
  }

  newSession(again) {
    // A new connection is a new server session: it starts at the Urdu step.
    this.update({
      connection: "open",
      phase: "say_urdu",
      step: "urdu",
      done: false,
      sentence: null,
      assessment: null,
      afterFeedback: false,
      passed: false,
      notice: again ? { kind: "info", text: hint("reconnected", this.state.mode) } : null,
    });
    this.history.refresh();
  }

  dropped({ retryInMs, superseded }) {
    this.epoch += 1;
    clearTimeout(this.replyTimer);
    this.stopRecordingTimers();
    this.mic.cancel();
    this.player.skip();
    this.update({ connection: "lost", phase: "connecting", retryInMs, superseded, blocked: false });
  }

  // --- the learner's actions ------------------------------------------------------

  async toggleRecording() {
    const { phase } = this.state;
    if (phase === "recording") {
      await this.finishRecording();
      return;
    }
    if (phase !== "say_urdu" && phase !== "say_english") return;
    this.words.stop();
    try {
      await this.mic.open();
    } catch (error) {
      const key = error instanceof MicrophoneError && error.reason === "denied" ? "micDenied" : "micMissing";
      this.update({ notice: { kind: "error", text: hint(key, this.state.mode) } });
      return;
    }
    if (this.state.phase !== phase) return; // the connection dropped meanwhile
    this.before = phase;
    this.mic.start();
    const english = phase === "say_english";
    // A new Urdu sentence starts a new cycle: the last one's result gives way.
    const fresh = english ? {} : { step: "urdu", done: false, sentence: null, assessment: null };
    this.update({ ...fresh, phase: "recording", recordingFor: english ? "english" : "urdu", notice: null });
    this.recordingTimer = setTimeout(() => this.finishRecording(), MAX_RECORDING_MS);
    this.animateMeter();
  }

  async finishRecording() {
    if (this.state.phase !== "recording") return;
    this.stopRecordingTimers();
    const epoch = this.epoch;
    const audio = await this.mic.stop();
    if (epoch !== this.epoch) return;
    if (audio.size === 0) {
      this.update({ phase: this.before, notice: { kind: "warn", text: hint("noSpeech", this.state.mode) } });
      return;
    }
    if (!this.socket.sendUtterance(audio, this.state.mode)) {
      this.update({ phase: this.before });
      return;
    }
    this.waitForReply();
  }

  sendAck(type) {
    if (!this.socket.send({ type, language_mode: this.state.mode })) return;
    this.words.stop();
    this.waitForReply();
  }

  waitForReply() {
    this.update({ phase: "thinking", notice: null });
    clearTimeout(this.replyTimer);
    this.replyTimer = setTimeout(() => {
      if (this.state.phase !== "thinking") return;
      this.update({ phase: this.before, notice: { kind: "warn", text: hint("slow", this.state.mode) } });
    }, REPLY_TIMEOUT_MS);
  }

  setMode(mode) {
    this.prefs.setLanguageMode(mode);
    this.socket.send({ language_mode: mode }); // no reply; the next reply uses it
    this.update({ mode });
  }

  async sayWord(word) {
    try {
      await this.words.say(word);
    } catch {
      // a word that cannot be spoken is not worth interrupting the learner for
    }
  }

  // --- the tutor's replies ----------------------------------------------------------

  received({ message, audio }) {
    clearTimeout(this.replyTimer);
    const text = message.response ?? "";
    switch (message.step) {
      case "session":
        this.sessionAnswered(message);
        break;
      case "no_speech":
        this.update({ phase: this.before, tutorText: text, notice: { kind: "warn", text: hint("noSpeech", this.state.mode) } });
        break;
      case "error":
        this.refused(message);
        break;
      case "english_input_edge_case":
        this.before = "say_urdu";
        this.update({ tutorText: text, notice: null });
        this.speak(message, audio, () => this.update({ phase: "say_urdu" }));
        break;
      case "you_said_audio":
        this.before = "say_english";
        this.update({
          step: "listen",
          done: false,
          passed: false,
          afterFeedback: false,
          assessment: null,
          attempt: null,
          tutorText: text,
          sentence: sentenceOf(message),
        });
        this.history.refresh(); // the new sentence joins the list
        this.speak(message, audio, () => this.sendAck("you_said_complete"));
        break;
      case "repeat_prompt":
        this.update({ phase: "practice", step: "words", tutorText: text, sentence: sentenceOf(message, this.state.sentence) });
        break;
      case "word_by_word":
        this.update({ phase: "practice", afterFeedback: true, tutorText: text, sentence: sentenceOf(message, this.state.sentence) });
        break;
      case "full_sentence_audio":
        this.before = "say_english";
        this.update({ step: "repeat", tutorText: text });
        this.speak(message, audio, () => this.update({ phase: "say_english" }));
        break;
      case "feedback_step":
        this.showAssessment(message);
        this.speak(message, audio, () => this.sendAck("feedback_complete"));
        break;
      case "await_next":
        this.finishCycle(message, audio);
        break;
      default:
        break; // a step this page does not know yet: additive protocol, ignore it
    }
  }

  refused(message) {
    const busy = message.code === "busy";
    const text = busy ? hint("busy", this.state.mode) : message.response;
    // Nothing changed on the server: the learner is where they were before speaking.
    const phase = this.state.phase === "thinking" ? this.before : this.state.phase;
    this.update({ phase, notice: { kind: busy ? "warn" : "error", text } });
  }

  showAssessment(message) {
    this.update({
      step: "feedback",
      assessment: message.assessment ?? null,
      feedbackText: message.response ?? "",
      attempt: message.attempt ?? null,
      tutorText: message.response ?? "",
    });
    this.history.refresh();
  }

  finishCycle(message, audio) {
    this.before = "say_urdu";
    if (message.skipped) {
      this.update({
        step: "urdu",
        done: false,
        sentence: null,
        assessment: null,
        passed: false,
        afterFeedback: false,
        tutorText: message.response ?? "",
      });
      this.history.refresh();
    } else {
      this.showAssessment(message);
      this.update({ done: true, passed: true, afterFeedback: false });
    }
    this.speak(message, audio, () => this.update({ phase: "say_urdu" }));
  }

  /** Play a reply, then continue (unless the connection dropped in between). */
  async speak(message, audio, then) {
    const epoch = this.epoch;
    this.update({ phase: "playing", blocked: false });
    await this.player.play(audio, message.audio_format);
    if (epoch !== this.epoch) return;
    this.update({ blocked: false });
    then();
  }

  // --- rendering ----------------------------------------------------------------

  update(changes) {
    Object.assign(this.state, changes);
    this.render();
    // Keyboard users keep their place: once the learner has started, focus that fell
    // off a button that went away (or never left the page body) moves to the action
    // that now makes sense.
    const focused = this.view.doc.activeElement;
    const lost =
      focused === null ||
      focused === this.view.doc.body ||
      (focused instanceof HTMLButtonElement && (focused.disabled || isHidden(focused)));
    if (this.interacted && lost) this.primaryAction()?.focus();
  }

  render() {
    this.view.render(this.state);
  }

  primaryAction() {
    const { phase } = this.state;
    const view = this.view;
    if (phase === "practice") return view.ready;
    if (phase === "playing") return this.state.blocked ? view.play : view.skip;
    if (!view.record.disabled) return view.record;
    return null;
  }

  animateMeter() {
    if (this.state.phase !== "recording") {
      this.view.showLevel(0);
      return;
    }
    this.view.showLevel(this.mic.level());
    requestAnimationFrame(() => this.animateMeter());
  }

  stopRecordingTimers() {
    clearTimeout(this.recordingTimer);
    this.recordingTimer = null;
  }
}

function sentenceOf(message, previous = null) {
  if (!message.english_sentence) return previous;
  return {
    english: message.english_sentence,
    urdu: message.urdu_sentence ?? previous?.urdu ?? "",
    words: message.words ?? previous?.words ?? message.english_sentence.split(/\s+/),
  };
}

function isHidden(element) {
  return element.closest("[hidden]") !== null;
}

function storageOrNull() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

new Tutor(document).start();

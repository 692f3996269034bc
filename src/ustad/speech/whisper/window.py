"""A shorter encoder window for short clips, and the faster-whisper model that takes it."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faster_whisper import WhisperModel

from ustad.speech.whisper.encodings import encode_cached, encoder_cache

FULL_WINDOW_FRAMES = 3000
"""30 s of 10 ms mel frames: the window Whisper's encoder is built for."""
FRAMES_PER_SECOND = 100
"""Mel frames per second of audio."""

SHORT_CLIP_MAX_SECONDS = 8.0
"""Longest clip the short-window path takes; longer ones always get the 30 s window.

Learner utterances are a sentence long (speechocean762: median 3.6 s, 90 % under
5.8 s). The longer the clip, the less a window of clip + margin saves and, measured
there, the likelier it is rejected: over 8 s, 11 of 16 clips went on to the full
window, so the short attempt cost more than it saved (0.9-1.0x). English readings
may reach longer clips (``ENGLISH_CLIP_MAX_SECONDS``).
"""
ENGLISH_CLIP_MAX_SECONDS = 26.0
"""Longest clip whose English readings may take a window of the clip plus the margin
(the setting ``stt.english_window_max_seconds``, at most this: a longer clip's window
would be the full 30 s anyway).

Measured on the 16 of the 300 speechocean762 learner clips over 8 s (8.1-15.2 s;
docs/measurements.md, "Long English clips in a window of their own"): tiny.en as
served kept all 16 short readings (no redo, now that a low log-prob alone is not
doubt) at under a third of the CPU (1.7 -> 0.5 s per clip), with the same WER; base's
target support on them cost about a third less, and every language look at them
stayed English.
"""
SHORT_WINDOW_MIN_SECONDS = 10
"""Shortest encoder window, in seconds.

Whisper was trained on 30 s windows only. Measured with tiny.en on the 300
speechocean762 clips, greedy, before any fallback: a window of the clip rounded up
plus 1 s (at least 3 s) gave WER 56 % against 37 % for the full window, with
sentences said twice and digit loops; clip + 2 s, at least 6 s: 48 %; clip + 3 s,
at least 10 s: 36 %. A 10 s window still encodes 6.8 times faster than 30 s
(tiny.en; base 6.5), and the decoder's cross-attention reads a third as many positions.
"""
SHORT_WINDOW_MARGIN_SECONDS = 3
"""Silence kept after the clip in the window, so Whisper sees where the speech ends."""


def short_window_frames(seconds: float, max_seconds: float = SHORT_CLIP_MAX_SECONDS) -> int | None:
    """Mel frames of the short window for a clip of ``seconds``, or ``None`` when the
    clip is too long for one (over ``max_seconds``, by default ``SHORT_CLIP_MAX_SECONDS``):
    the clip rounded up plus ``SHORT_WINDOW_MARGIN_SECONDS``, at least
    ``SHORT_WINDOW_MIN_SECONDS``, at most the full window."""
    if seconds > max_seconds:
        return None
    window = max(SHORT_WINDOW_MIN_SECONDS, math.ceil(seconds) + SHORT_WINDOW_MARGIN_SECONDS)
    return min(FULL_WINDOW_FRAMES, window * FRAMES_PER_SECOND)


class WindowedWhisperModel(WhisperModel):  # type: ignore[misc]  # faster-whisper is untyped
    """faster-whisper's model whose encoder can be limited and remembers recent encodings.

    Window: faster-whisper 1.2 always pads the mel features to 3000 frames before
    encoding, whatever its ``chunk_length`` (which only moves where windows are cut,
    by changing the shared feature extractor, so it is not even safe across threads).
    CTranslate2 4.8 encodes any width up to 3000 frames (and refuses more), so
    cutting the padded features here is the one place a shorter window can be fed
    through faster-whisper's unchanged decoding and word alignment. The width is set
    per calling thread: several executor threads share the model.

    Encodings: ``encodings`` keeps the last ``encodings_kept`` encoder outputs (see
    ``ustad.speech.whisper.encodings``). Other arguments are ``WhisperModel``'s.
    """

    def __init__(self, *args: Any, encodings_kept: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._window = threading.local()
        self.encodings = encoder_cache(encodings_kept)

    @contextmanager
    def window(self, frames: int | None) -> Iterator[None]:
        """Encode at most ``frames`` mel frames in this thread (``None``: the full 30 s)."""
        self._window.frames = frames
        try:
            yield
        finally:
            self._window.frames = None

    @property
    def window_frames(self) -> int | None:
        """The calling thread's window in mel frames (``None``: the full 30 s)."""
        frames: int | None = getattr(self._window, "frames", None)
        return frames

    def encode(self, features: Any) -> Any:
        """The encoder output for ``features`` (cut to the thread's window), maybe kept."""
        frames = self.window_frames
        # Every window faster-whisper encodes, including a second one from the last
        # word's end, starts inside the clip, and the clip ends before ``frames``:
        # only zero padding is cut.
        if frames is not None and features.shape[-1] > frames:
            features = features[..., :frames]
        return encode_cached(self.encodings, features, super().encode)

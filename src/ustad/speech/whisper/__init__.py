"""Speech recognition with faster-whisper (CTranslate2 Whisper models on the CPU).

- ``transcriber``: ``WhisperTranscriber``, the engine the service calls;
- ``window``: the shorter encoder window for short clips and the model that takes it;
- ``encodings``: the cache of recent encoder outputs (``whisper_encodings``);
- ``checks``: what is checked of a decode (repetition loops, token budget,
  short-window doubts, log-prob and no-speech figures);
- ``pieces``: a drill (speech said over and over) decoded again one voiced region at
  a time when the whole clip's decode was lost to a loop;
- ``transcript``: ustad's ``Transcript`` and words from faster-whisper's segments.
"""

from ustad.speech.whisper.transcriber import WhisperTranscriber

__all__ = ["WhisperTranscriber"]

"""What encoding a spoken reply as MP3 costs, and what the cheaper ways of doing it cost.

Phrase-bank sentences (``--sentences``, spread over the bank) are said by the packaged
Piper voice (22.05 kHz mono int16, one ONNX thread) and joined three at a time, with the
service's gap, into replies. Each reply is then encoded by every variant:

* ``baseline``: ``encode_audio`` as the service called it before ``mp3_quality``
  existed (64 kbit/s, the PCM's own 22.05 kHz, LAME's default quality 3);
* ``q3 s16p``: the same through PyAV with the encoder's input already planar int16, so
  PyAV converts no sample format (the service hands it packed int16; LAME takes s32p);
* ``q5`` / ``q6`` / ``q7`` / ``q9``: ``encode_audio`` with ``mp3_quality`` 5, 6, 7 or 9
  (LAME: 5 and 6 shape the quantisation noise under the masking threshold, more cheaply
  than 3; 7 and up do not shape it);
* ``q3 16k``: resampled to 16 kHz first (not a candidate: what another rate would save);
* ``q3 stream``: ``StreamEncoder`` fed one sentence at a time (how ``/v1/audio/speech``
  streams), to see what encoding in pieces adds;
* ``q7 pieces``: each sentence encoded alone as bare MP3 frames at quality 7 and the
  reply joined from them (``ustad.speech.mp3_pieces``, what the service now does; here
  every sentence is new, so nothing is reused and the figure is the pieces' overhead).
  Its SNR and LSD are each sentence's piece against that sentence (the pauses between
  pieces differ from the PCM's by up to a frame, so the whole reply does not align).

CPU time (``time.process_time``: the machine is shared, wall time is not a measure) is
taken over ``--reps`` passes of every reply, per variant, ``--runs`` times with the
variants interleaved, and the median is reported as milliseconds of CPU per second of
speech, with its ratio to the baseline. Also printed: Piper's own CPU per second of
speech (for scale), the fixed cost of one encoder call (a 10-sample clip), and each
variant's actual bitrate.

What a turn pays: the tutor's replies that wrap a sentence (``you_said`` and
``full_sentence`` in both language modes, as pre-generation builds them) are made from
the same sentences, each segment synthesised once (Piper for English, espeak-ng for
Urdu; the fixed segments first, untimed, as the segment cache holds them from start-up)
and the replies encoded three ways: whole at LAME's default quality (as the service
did), whole at 7, and joined from pieces encoded once each at 7 (as the service now
does: ``ustad.speech.mp3_pieces``; the fixed pieces are encoded at their first use, and
counted); each with its share of the CPU spent on the replies.

Whether the audio still says the same: every variant's MP3 is decoded back (16 kHz, as
the recognisers take it) and transcribed by ustad's English recogniser (tiny.en, as the
service runs it); the word error rate against the replies' text (``clip_wer.corpus_wer``,
the assessment's normalisation) is printed beside the same for the PCM before encoding.
Two coarse figures compare the decoded MP3 with the PCM at 22.05 kHz, after aligning out
the codec delay: ``SNR``, the waveform signal-to-noise ratio (a perceptual codec does not
aim at the waveform: unshaped noise scores better here than noise hidden under the
speech), and ``LSD``, the log-spectral distance in dB (RMS over 0-10 kHz of the dB
difference of the two spectra, each clamped 60 dB under the frame's loudest bin, mean
over 23 ms frames within 50 dB of the loudest frame),
which grows where the codec leaves holes or noise in the spectrum. Neither is a
listening test.

Usage: ``PYTHONPATH=src .venv/bin/python benchmarks/encode_cost.py [--sentences 42]
[--runs 5] [--reps 3] [--no-wer]``. Writes nothing.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from clip_wer import corpus_wer

from ustad.settings import TtsSettings
from ustad.speech.audio import concatenate, decode_audio, encode_audio, resample_pcm
from ustad.speech.mp3_pieces import encode_mp3_piece
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.stream_encoding import StreamEncoder, silence
from ustad.speech.types import Pcm, Transcript

SENTENCES_PER_REPLY = 3
GAP_SECONDS = TtsSettings().gap_seconds


@dataclass(frozen=True)
class Reply:
    """Sentences said one by one, and the reply they make joined with the gap."""

    text: str
    sentences: tuple[Pcm, ...]
    joined: Pcm


Encoder = Callable[[Reply], bytes]


def encode_planar(pcm: Pcm, quality: int | None = None) -> bytes:
    """MP3 through PyAV with the encoder's input format set to planar int16."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as output:
        options = {} if quality is None else {"compression_level": str(quality)}
        stream = output.add_stream("libmp3lame", rate=pcm.sample_rate, options=options)
        assert isinstance(stream, AudioStream)
        stream.bit_rate = 64_000
        stream.codec_context.format = "s16p"
        stream.codec_context.layout = "mono"
        frame = AudioFrame.from_ndarray(pcm.samples.reshape(1, -1), format="s16p", layout="mono")
        frame.sample_rate = pcm.sample_rate
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def encode_streamed(reply: Reply) -> bytes:
    """MP3 as ``/v1/audio/speech`` streams it: one ``StreamEncoder.add`` per sentence."""
    rate = reply.joined.sample_rate
    encoder = StreamEncoder("mp3", sample_rate=rate)
    gap = silence(GAP_SECONDS, rate)
    chunks = []
    for index, pcm in enumerate(reply.sentences):
        if index:
            chunks.append(encoder.add(gap))
        chunks.append(encoder.add(pcm))
    chunks.append(encoder.finish())
    return b"".join(chunks)


def encode_pieces(reply: Reply) -> bytes:
    """MP3 as the service now makes replies: each sentence a piece, the pieces joined."""
    return b"".join(
        encode_mp3_piece(
            pcm, sample_rate=pcm.sample_rate, bitrate=64_000, quality=7, gap_seconds=GAP_SECONDS
        )
        for pcm in reply.sentences
    )


VARIANTS: dict[str, Encoder] = {
    "baseline": lambda r: encode_audio(r.joined, "mp3"),
    "q3 s16p": lambda r: encode_planar(r.joined),
    "q5": lambda r: encode_audio(r.joined, "mp3", mp3_quality=5),
    "q6": lambda r: encode_audio(r.joined, "mp3", mp3_quality=6),
    "q7": lambda r: encode_audio(r.joined, "mp3", mp3_quality=7),
    "q9": lambda r: encode_audio(r.joined, "mp3", mp3_quality=9),
    "q3 16k": lambda r: encode_audio(resample_pcm(r.joined, 16_000), "mp3"),
    "q3 stream": encode_streamed,
    "q7 pieces": encode_pieces,
}


def synthesize(count: int) -> tuple[list[Reply], float]:
    """``count`` phrase-bank sentences said by Piper, as replies; and Piper's CPU seconds
    per second of speech."""
    from ustad.speech.piper_tts import PiperSynthesizer

    phrases = list(PhraseBank.load())
    step = max(1, len(phrases) // count)
    chosen = phrases[::step][:count]
    voice = PiperSynthesizer.packaged(threads=1)
    started = time.process_time()
    said = [voice.synthesize(phrase.english) for phrase in chosen]
    cpu = time.process_time() - started
    seconds = sum(pcm.duration for pcm in said)
    replies = []
    for start in range(0, len(chosen), SENTENCES_PER_REPLY):
        group = said[start : start + SENTENCES_PER_REPLY]
        text = " ".join(phrase.english for phrase in chosen[start : start + SENTENCES_PER_REPLY])
        joined = concatenate(group, sample_rate=group[0].sample_rate, gap_seconds=GAP_SECONDS)
        replies.append(Reply(text, tuple(group), joined))
    return replies, cpu / seconds


@dataclass(frozen=True)
class TurnFigures:
    """CPU seconds behind the tutor's sentence replies, as the service makes them."""

    replies: int
    speech_seconds: float
    synthesis: float
    """Synthesis of the segments not already cached (the fixed ones are, from start-up)."""
    encoding: dict[str, float]
    """Encoding the replies, median of the runs, per variant: each reply joined and
    encoded whole (as the service did), or each piece encoded once into MP3 and the
    replies joined from the pieces (``ustad.speech.mp3_pieces``, as the service does)."""


def turn_replies(count: int, runs: int) -> TurnFigures:
    """The ``you_said`` and ``full_sentence`` replies of ``count`` phrase-bank sentences
    in both language modes, each segment synthesised once (as the segment cache does,
    the fixed parts before any is timed) and the replies encoded by each variant."""
    from ustad.learn.pregeneration import phrase_prompts
    from ustad.runtime.speech_parts import spoken_pieces
    from ustad.speech.espeak_tts import EspeakSynthesizer
    from ustad.speech.piper_tts import PiperSynthesizer
    from ustad.speech.types import Segment
    from ustad.tutor.texts import fixed_segments

    tts = TtsSettings()
    voices = {"en": PiperSynthesizer.packaged(threads=1), "ur": EspeakSynthesizer()}
    cache: dict[Segment, Pcm] = {}

    def said(segment: Segment) -> Pcm:
        if segment not in cache:
            cache[segment] = voices[segment.language].synthesize(segment.text)
        return cache[segment]

    for segment in spoken_pieces(fixed_segments(), tts.max_chunk_chars):
        said(segment)
    phrases = list(PhraseBank.load())
    chosen = phrases[:: max(1, len(phrases) // count)][:count]
    prompts = phrase_prompts(chosen, ("urdu", "english"))
    started = time.process_time()
    replies = [spoken_pieces(prompt.segments, tts.max_chunk_chars) for prompt in prompts]
    for reply in replies:
        for segment in reply:
            said(segment)
    synthesis = time.process_time() - started

    def whole(quality: int | None) -> None:
        for reply in replies:
            parts = [cache[segment] for segment in reply]
            pcm = concatenate(parts, sample_rate=tts.sample_rate, gap_seconds=tts.gap_seconds)
            encode_audio(pcm, "mp3", mp3_quality=quality)

    def spliced(quality: int) -> None:
        pieces: dict[Segment, bytes] = {}  # empty at each run: fixed pieces count once
        for reply in replies:
            for segment in reply:
                if segment not in pieces:
                    pieces[segment] = encode_mp3_piece(
                        cache[segment],
                        sample_rate=tts.sample_rate,
                        bitrate=tts.mp3_bitrate,
                        quality=quality,
                        gap_seconds=tts.gap_seconds,
                    )
            b"".join(pieces[segment] for segment in reply)

    jobs: dict[str, Callable[[], None]] = {
        "baseline (whole, LAME default 3)": lambda: whole(None),
        "q7 whole": lambda: whole(7),
        "q7 pieces (the service now)": lambda: spliced(7),
    }
    encoding: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            started = time.process_time()
            job()
            encoding[name].append(time.process_time() - started)
    seconds = sum(
        sum(cache[segment].duration for segment in reply) + tts.gap_seconds * (len(reply) - 1)
        for reply in replies
    )
    return TurnFigures(
        len(replies),
        seconds,
        synthesis,
        {name: statistics.median(values) for name, values in encoding.items()},
    )


def cpu_per_speech_second(replies: Sequence[Reply], runs: int, reps: int) -> dict[str, list[float]]:
    """Per variant, each run's CPU milliseconds per second of speech encoded."""
    seconds = sum(reply.joined.duration for reply in replies) * reps
    found: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for run in range(runs):
        # Rotate the order so no variant always runs first (or after the same one).
        names = list(VARIANTS)
        names = names[run % len(names) :] + names[: run % len(names)]
        for name in names:
            encode = VARIANTS[name]
            started = time.process_time()
            for _ in range(reps):
                for reply in replies:
                    encode(reply)
            found[name].append((time.process_time() - started) * 1000 / seconds)
    return found


def fixed_cost_ms(repeats: int = 200) -> float:
    """CPU milliseconds of one ``encode_audio`` MP3 call on 10 samples (its set-up)."""
    tiny = Pcm(np.zeros(10, dtype=np.int16), 22_050)
    started = time.process_time()
    for _ in range(repeats):
        encode_audio(tiny, "mp3")
    return (time.process_time() - started) * 1000 / repeats


def fidelity(original: Pcm, data: bytes) -> tuple[float, float]:
    """Waveform SNR and log-spectral distance (both dB) of decoded MP3 against the PCM,
    at the lag (the codec's delay) that gives the best SNR."""
    reference = original.samples.astype(np.float64) / 32768
    decoded = decode_audio(data, format_hint="mp3", sample_rate=original.sample_rate).samples
    best, best_lag = -np.inf, 0
    for lag in range(0, 3000):  # LAME's delay plus the decoder's, well under 3000 samples
        piece = decoded[lag : lag + len(reference)].astype(np.float64)
        if len(piece) < len(reference) * 0.98:
            break
        ref = reference[: len(piece)]
        noise = float(np.sum(np.square(ref - piece)))
        snr = 10 * np.log10(float(np.sum(np.square(ref))) / max(noise, 1e-12))
        if snr > best:
            best, best_lag = snr, lag
    piece = decoded[best_lag : best_lag + len(reference)].astype(np.float64)
    return float(best), log_spectral_distance(reference[: len(piece)], piece, original.sample_rate)


def log_spectral_distance(
    reference: npt.NDArray[np.float64], other: npt.NDArray[np.float64], rate: int
) -> float:
    """Mean over loud frames of the RMS dB difference of the spectra up to 10 kHz."""
    size = 512
    window = np.hanning(size)
    frames = len(reference) // size
    shape = (frames, size)
    ref = np.abs(np.fft.rfft(reference[: frames * size].reshape(shape) * window, axis=1))
    got = np.abs(np.fft.rfft(other[: frames * size].reshape(shape) * window, axis=1))
    bins = int(10_000 / rate * size) + 1
    ref_db = 20 * np.log10(ref[:, :bins] + 1e-9)
    got_db = 20 * np.log10(got[:, :bins] + 1e-9)
    # Differences more than 60 dB under the frame's loudest bin are not heard: clamp.
    floor = ref_db.max(axis=1, keepdims=True) - 60
    ref_db, got_db = np.maximum(ref_db, floor), np.maximum(got_db, floor)
    energy = 10 * np.log10(np.sum(np.square(ref), axis=1) + 1e-12)
    loud = energy > energy.max() - 50
    per_frame = np.sqrt(np.mean(np.square(ref_db - got_db), axis=1))
    return float(np.mean(per_frame[loud]))


def quality(replies: Sequence[Reply]) -> dict[str, tuple[float, float, float, float]]:
    """Per variant (and ``pcm``, no encoding): WER of tiny.en against the reply text, mean
    SNR and mean log-spectral distance in dB, and kbit/s."""
    from ustad.speech.model_paths import english_whisper_dir
    from ustad.speech.whisper import WhisperTranscriber

    engine = WhisperTranscriber(english_whisper_dir("packaged"), name="tiny.en", cpu_threads=1)

    def heard(samples: npt.NDArray[np.float32]) -> Transcript:
        from ustad.speech.types import Audio

        return engine.transcribe(Audio(samples, 16_000), word_timestamps=True)

    results: dict[str, tuple[float, float, float, float]] = {}
    plain = [
        (r.text, heard(resample_pcm(r.joined, 16_000).samples.astype(np.float32) / 32768))
        for r in replies
    ]
    results["pcm"] = (corpus_wer(plain), float("inf"), 0.0, replies[0].joined.sample_rate * 0.016)
    seconds = sum(reply.joined.duration for reply in replies)
    for name, encode in VARIANTS.items():
        encoded = [encode(reply) for reply in replies]
        pairs = [
            (r.text, heard(decode_audio(data, format_hint="mp3").samples))
            for r, data in zip(replies, encoded, strict=True)
        ]
        if name == "q7 pieces":
            figures = [
                fidelity(pcm, encode_pieces(Reply("", (pcm,), pcm)))
                for r in replies
                for pcm in r.sentences
            ]
        else:
            figures = [fidelity(r.joined, data) for r, data in zip(replies, encoded, strict=True)]
        snr = statistics.mean(f[0] for f in figures)
        lsd = statistics.mean(f[1] for f in figures)
        rate = sum(len(data) for data in encoded) * 8 / seconds / 1000
        results[name] = (corpus_wer(pairs), snr, lsd, rate)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Print the cost table (and, unless ``--no-wer``, the quality table)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=42)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-wer", action="store_true")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5 (the median of five or more runs)")

    replies, piper_cpu = synthesize(args.sentences)
    speech = sum(reply.joined.duration for reply in replies)
    print(
        f"{args.sentences} Piper sentences in {len(replies)} replies, {speech:.1f} s of speech "
        f"at {replies[0].joined.sample_rate} Hz; Piper itself: "
        f"{piper_cpu * 1000:.1f} ms CPU per s of speech"
    )
    costs = cpu_per_speech_second(replies, args.runs, args.reps)
    base = statistics.median(costs["baseline"])
    print(f"\nMP3 encoding, CPU ms per s of speech (median of {args.runs} runs x {args.reps}):")
    print("| variant | CPU ms/s | min | max | vs baseline | share of Piper's CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in costs.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.2f} | {min(values):.2f} | {max(values):.2f} "
            f"| {base / median:.2f}x | {median / (piper_cpu * 1000):.1%} |"
        )
    print(f"\nFixed cost of one encode_audio MP3 call: {fixed_cost_ms():.2f} ms CPU")
    turns = turn_replies(args.sentences, args.runs)
    print(
        f"\nThe tutor's sentence replies (you_said, full_sentence; both modes) for the same "
        f"sentences: {turns.replies} replies, {turns.speech_seconds:.1f} s of speech; "
        f"synthesis of the segments not cached: {turns.synthesis:.2f} s CPU"
    )
    print("| encoding | CPU s | share of synthesis + encoding |")
    print("|---|---:|---:|")
    for name, cpu in turns.encoding.items():
        print(f"| {name} | {cpu:.2f} | {cpu / (cpu + turns.synthesis):.1%} |")
    if args.no_wer:
        return 0
    print("\nDecoded back and heard by tiny.en (WER against the replies' text):")
    print("| variant | WER | SNR dB | LSD dB | kbit/s |")
    print("|---|---:|---:|---:|---:|")
    for name, (wer, snr, lsd, rate) in quality(replies).items():
        print(f"| {name} | {wer:.2%} | {snr:.1f} | {lsd:.2f} | {rate:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

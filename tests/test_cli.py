"""The ``ustad`` command on the real engines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, LearnerClip
from ustad.speech.audio import decode_audio

pytestmark = pytest.mark.models


def ustad(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"USTAD_STT__MODELS_DIR": str(REPO_ROOT / "var" / "models"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "ustad.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_say_then_assess_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "hello.mp3"
    said = ustad("say", "Where is the train station?", "-o", str(out), cwd=tmp_path)
    assert said.returncode == 0, said.stderr
    assert decode_audio(out.read_bytes()).duration > 1.0
    assessed = ustad("assess", str(out), "--text", "Where is the train station?", cwd=tmp_path)
    assert assessed.returncode == 0, assessed.stderr
    result = json.loads(assessed.stdout)
    assert result["passed"] is True and result["feedback"]


def test_assess_a_learner_clip_against_another_sentence(
    tmp_path: Path, learner_clips: list[LearnerClip]
) -> None:
    clip = next(c for c in learner_clips if c.text == "SO MARY WENT ON TO STUDY")
    result = ustad("assess", str(clip.path), "--text", "I like green apples.", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passed"] is False


def test_clear_errors(tmp_path: Path) -> None:
    missing = ustad("assess", str(tmp_path / "nope.wav"), "--text", "hi", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"definitely not audio")
    bad = ustad("assess", str(junk), "--text", "hi", cwd=tmp_path)
    assert bad.returncode == 1 and "ustad:" in bad.stderr
    fmt = ustad("say", "hi", "-o", str(tmp_path / "x.aac"), cwd=tmp_path)
    assert fmt.returncode == 2 and "unsupported format" in fmt.stderr

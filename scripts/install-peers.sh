#!/usr/bin/env bash
# Installs the peers ustad is benchmarked against (benchmarks/peers.py) into their own
# virtualenv, never into ustad's .venv: their pins differ and must not clash with it.
#
#   wyoming-faster-whisper 3.8.1  Whisper through faster-whisper, loads a local model dir
#   wyoming-piper 2.5.2           Piper through the piper-tts Python package (versions
#                                 before 2 ran a piper binary fetched at run time)
#
# The engines underneath are pinned to the versions ustad itself runs, so both sides
# execute the same CTranslate2 and ONNX Runtime code on the same model files.
# Re-running is a no-op once the venv holds exactly these pins.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENV=${PEERS_VENV:-var/peers-venv}

PINS=(
  "wyoming-faster-whisper==3.8.1"
  "wyoming-piper==2.5.2"
  "wyoming==1.10.2"
  "faster-whisper==1.2.1"
  "ctranslate2==4.8.5"
  "piper-tts==1.8.0"
  "onnxruntime==1.32.0"
  "av==18.1.0"
  "numpy==2.4.6"
)
STAMP="$VENV/.installed"
WANTED=$(printf '%s\n' "${PINS[@]}")

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANTED" && -x "$VENV/bin/python" ]]; then
  echo "peers already installed in $VENV"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}"
# Both servers must start: a broken install should fail here, not mid-benchmark.
"$VENV/bin/python" -m wyoming_faster_whisper --version >/dev/null
"$VENV/bin/python" -m wyoming_piper --version >/dev/null
printf '%s\n' "$WANTED" >"$STAMP"
echo "peers installed in $VENV"

#!/usr/bin/env bash
# Installs everything Kagura needs on a fresh Debian machine, and nothing twice:
# Debian packages, uv, the locked Python environment (llama.cpp compiles once, ~15 min),
# and the web pages' Live2D runtime from npm (never committed: Live2D's licence).
set -euo pipefail
cd "$(dirname "$0")/.."

# libportaudio2: the sound device of `kagura chat` (microphone, playback).
apt_packages=(espeak-ng chromium fonts-noto-cjk libportaudio2)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv"
  python3 -m pip install -q "uv==0.13.9"
fi

# A portable llama.cpp build (AVX2, not -march=native): the wheel uv caches stays valid
# on any machine of this kind.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
if ! uv sync --locked --check --quiet 2>/dev/null; then
  echo "setup: building the Python environment (the first time on a machine compiles llama.cpp: ~15 min)"
  uv sync --locked
fi

# The pages' JavaScript libraries (Live2D's, three.js and three-vrm for VRM models), Cubism Core
# and the sample models, exactly as locked.
# `npm ci` again only when the lock file is newer than the installed tree.
web=src/kagura/web
if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  echo "setup: installing the web pages' Live2D and VRM runtimes (npm ci)"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi

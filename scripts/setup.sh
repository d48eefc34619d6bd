#!/usr/bin/env bash
# Sets up HeartTwin on Debian/Ubuntu: the system libraries Qt and VTK need
# (apt-get, only those missing) and a local virtual environment in .venv with
# the package installed in editable mode. Safe to re-run: it does only what is
# missing. Usage: scripts/setup.sh [--test]   (--test adds test tools)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

say() { printf 'hearttwin setup: %s\n' "$*" >&2; }

# --- system libraries ---------------------------------------------------------
# Each entry lists alternative package names (Debian 12 / Debian 13 & Ubuntu 24.04).
RUNTIME_PKGS=(
  "libgl1" "libegl1" "libosmesa6" "libglib2.0-0t64|libglib2.0-0" "libdbus-1-3"
  "libfontconfig1" "libxkbcommon0" "libxkbcommon-x11-0" "libxrender1" "libxext6"
  "libxt6t64|libxt6" "libx11-xcb1" "libxcb-cursor0" "libxcb-icccm4" "libxcb-keysyms1"
  "libxcb-shape0" "libxcb-xinerama0" "libxcb-randr0" "libxcb-render-util0"
  "libxcb-image0" "libxcb-xkb1" "libxi6" "libxrandr2" "libxcursor1"
)
TEST_PKGS=("xvfb" "xauth" "dicom3tools" "icu-devtools" "binutils" "gcc")  # the last three: packaging/icu_data.py

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
available() { apt-cache show "$1" >/dev/null 2>&1; }

if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  wanted=("${RUNTIME_PKGS[@]}")
  (( WITH_TEST )) && wanted+=("${TEST_PKGS[@]}")
  missing=()
  updated=0
  for entry in "${wanted[@]}"; do
    IFS='|' read -r -a alts <<<"$entry"
    have=0
    for p in "${alts[@]}"; do installed "$p" && { have=1; break; }; done
    (( have )) && continue
    if (( ! updated )); then
      SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
      say "updating the package lists (apt-get update)"
      $SUDO apt-get update -qq
      updated=1
    fi
    for p in "${alts[@]}"; do available "$p" && { missing+=("$p"); break; }; done
  done
  if (( ${#missing[@]} )); then
    say "installing system packages: ${missing[*]}"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  say "not a Debian/Ubuntu system: install OpenGL/OSMesa, fontconfig, dbus and xcb libraries yourself"
fi

# --- Python -------------------------------------------------------------------
PY=""
for cand in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
  [[ -z "$cand" ]] && continue
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PY="$cand"; break
  fi
done
if [[ -z "$PY" ]]; then
  say "HeartTwin needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)"; exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
  if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    say "installing python${ver}-venv"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get install -y -qq "python${ver}-venv" >/dev/null || $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  say "creating the virtual environment in .venv ($("$PY" --version))"
  "$PY" -m venv .venv
fi

extras=""; (( WITH_TEST )) && extras="[test]"
stamp=".venv/.hearttwin-installed${extras}"
digest=$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "$digest" ]]; then
  say "installing HeartTwin and its Python dependencies${extras:+ (with test tools)}"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".${extras}"
  echo "$digest" > "$stamp"
fi

#!/usr/bin/env bash
# Build the packaged HeartTwin on Linux, from a clean virtual environment:
#   dist/hearttwin-VERSION-linux-ARCH.tar.gz   the one-folder bundle (unpack, run hearttwin/hearttwin)
#   dist/hearttwin_VERSION_ARCH.deb            /opt/hearttwin + /usr/bin/hearttwin, desktop entry,
#                                              icon and the .htwin file type
# Usage: packaging/build.sh [--reuse-venv] [--no-deb] [--stock-simpleitk] [--out DIR]
#   --reuse-venv       keep build/packaging/venv when pyproject.toml has not changed (faster rebuilds)
#   --no-deb           only the bundle and the .tar.gz
#   --stock-simpleitk  bundle PyPI's SimpleITK wheel (all ~300 filters, +230 MB) instead of
#                      building the slim one (packaging/simpleitk/build.sh: ~50 min the first
#                      time on 2 cores, then cached in build/simpleitk or $SIMPLEITK_WORKDIR)
#   --out DIR          where the artefacts go (default: dist/)
# Network: only the package registries (PyPI; Debian for ITK's sources). Needs python3.11+
# built with a shared libpython (python.org, Debian/Ubuntu and pyenv's default builds are),
# python3-venv, dpkg-deb, g++ for the slim SimpleITK and icu-devtools for Qt's ICU data
# (both apt-installed when missing and running as root). Build sizes and times are written
# to OUT/build-info.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build/packaging"
OUT="$ROOT/dist"
REUSE=0; DEB=1; SLIM=1
while (( $# )); do
  case "$1" in
    --reuse-venv) REUSE=1 ;;
    --no-deb) DEB=0 ;;
    --stock-simpleitk) SLIM=0 ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { printf 'hearttwin build: %s\n' "$*" >&2; }
start=$(date +%s)
mkdir -p "$BUILD" "$OUT"
OUT="$(cd "$OUT" && pwd)"

# --- a Python that PyInstaller can freeze (shared libpython) -------------------------------
PY=""
for cand in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
  [[ -z "$cand" ]] && continue
  command -v "$cand" >/dev/null 2>&1 || continue
  if "$cand" -c 'import sys, sysconfig, venv; sys.exit(sys.version_info < (3, 11) or not sysconfig.get_config_var("Py_ENABLE_SHARED"))' 2>/dev/null; then
    PY="$cand"; break
  fi
done
[[ -n "$PY" ]] || { say "need Python >= 3.11 built with --enable-shared and the venv module (set PYTHON=...)"; exit 1; }
command -v dpkg-deb >/dev/null 2>&1 || (( ! DEB )) || { say "dpkg-deb is missing (apt-get install dpkg-dev), or use --no-deb"; exit 1; }
# icupkg and genccode slim Qt's ICU data in the bundle (packaging/icu_data.py)
if [[ ! -x /usr/sbin/icupkg && -z "$(command -v icupkg)" ]]; then
  (( EUID == 0 )) || { say "needs ICU's data tools (apt-get install icu-devtools)"; exit 1; }
  say "installing icu-devtools (ICU's data tools)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q icu-devtools >/dev/null
fi

# --- clean virtual environment with HeartTwin (not editable) and PyInstaller --------------
VENV="$BUILD/venv"
stamp="$VENV/.hearttwin-build"
digest="$( (cat "$ROOT/pyproject.toml" "$ROOT/packaging/requirements.txt"; echo "slim=$SLIM") | sha256sum | cut -c1-16)"
if (( ! REUSE )) || [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "$digest" ]]; then
  say "creating a clean virtual environment ($("$PY" --version))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r "$ROOT/packaging/requirements.txt"
  echo "$digest" > "$stamp"
fi
# setuptools builds in the source tree: drop what an earlier build left there
rm -rf "$ROOT/build/lib" "$ROOT"/build/bdist.*
say "installing HeartTwin into the build environment"
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$ROOT"
"$VENV/bin/python" -m pip install -q "$ROOT"  # dependencies (already there when reused)
rm -rf "$ROOT/build/lib" "$ROOT"/build/bdist.*
if (( SLIM )); then
  say "slim SimpleITK: building it, or reusing the last build"
  t_sitk=$(date +%s)
  wheel="$(bash "$ROOT/packaging/simpleitk/build.sh" "$VENV/bin/python" "${SIMPLEITK_WORKDIR:-$ROOT/build/simpleitk}")"
  "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"
  t_sitk=$(( $(date +%s) - t_sitk ))
fi
(cd / && "$VENV/bin/python" "$ROOT/packaging/simpleitk/prune_filters.py" --check "$ROOT") >&2
VERSION="$(cd / && "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("hearttwin"))')"
ARCH="$(dpkg --print-architecture 2>/dev/null || uname -m)"
export HEARTTWIN_VERSION="$VERSION"
say "HeartTwin $VERSION: freezing with PyInstaller"

# --- freeze ------------------------------------------------------------------------------
t_freeze=$(date +%s)
rm -rf "$BUILD/dist" "$BUILD/work"
(cd "$BUILD" && "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$BUILD/dist" --workpath "$BUILD/work" "$ROOT/packaging/hearttwin.spec")
BUNDLE="$BUILD/dist/hearttwin"
t_freeze=$(( $(date +%s) - t_freeze ))
got="$(env -u DISPLAY -u WAYLAND_DISPLAY "$BUNDLE/hearttwin" --version)"
[[ "$got" == "HeartTwin $VERSION" ]] || { say "the bundle says '$got', expected 'HeartTwin $VERSION'"; exit 1; }

# --- artefacts -----------------------------------------------------------------------------
TARBALL="$OUT/hearttwin-$VERSION-linux-$ARCH.tar.gz"
say "writing $(basename "$TARBALL")"
tar -C "$BUILD/dist" -czf "$TARBALL" hearttwin
DEBFILE=""
if (( DEB )); then
  say "assembling the .deb"
  DEBFILE="$(bash "$ROOT/packaging/linux/make_deb.sh" "$BUNDLE" "$VERSION" "$OUT")"
fi

# --- what we built -----------------------------------------------------------------------------
{
  echo "HeartTwin $VERSION, built $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -srm) with $("$VENV/bin/python" --version)"
  echo "PyInstaller $("$VENV/bin/pyinstaller" --version)"
  echo "build time: $(( $(date +%s) - start )) s (freeze $t_freeze s$( (( SLIM )) && echo ", slim SimpleITK $t_sitk s"))"
  (cd / && "$VENV/bin/python" -c 'import SimpleITK as s; print("SimpleITK", s.Version.VersionString(), "with", sum(n.endswith("Filter") for n in dir(s)), "filter classes")')
  mb() { du -s --apparent-size -B 1000000 "$@"; }  # file bytes in MB of 10^6, as bench/startup.py counts
  echo "bundle unpacked: $(mb "$BUNDLE" | cut -f1) MB in $(find "$BUNDLE" -type f | wc -l) files"
  echo "tar.gz: $(mb "$TARBALL" | cut -f1) MB"
  [[ -n "$DEBFILE" ]] && echo "deb: $(mb "$DEBFILE" | cut -f1) MB"
  echo "largest items in the bundle (MB):"
  (cd "$BUNDLE/_internal" && mb -- * | sort -rn | sed -n '1,15s/^/  /p')  # sed reads it all: no SIGPIPE under pipefail
} | tee "$OUT/build-info.txt" >&2
echo "$TARBALL"
[[ -n "$DEBFILE" ]] && echo "$DEBFILE"
exit 0

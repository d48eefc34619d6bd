#!/usr/bin/env bash
# Build a slim SimpleITK wheel for the packaged HeartTwin: only the filters HeartTwin uses
# (prune_filters.py), on an ITK built with only the modules they need. The stock wheel holds
# ~300 filters in one 270 MB library; this one holds 21 (63 MB).
#   ITK        Debian's source archive (insighttoolkit5 orig tarball, checksum-pinned)
#   SimpleITK  its source distribution on PyPI (checksum-pinned)
# Usage: packaging/simpleitk/build.sh PYTHON WORKDIR
#   PYTHON   the interpreter the wheel is for (the packaging venv's python)
#   WORKDIR  sources, build trees and the cached wheel (reused while the inputs are unchanged)
# Prints the wheel's path. First build: about 50 min on 2 cores; later builds reuse the wheel.
# Needs a C++ compiler (g++), lua5.4 (SimpleITK's code generator; apt-get installed when
# missing and running as root) and the network to the package registries only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${1:?usage: build.sh PYTHON WORKDIR}"
W="${2:?usage: build.sh PYTHON WORKDIR}"
ITK_VERSION=5.4.7
ITK_URL="${ITK_SOURCE_URL:-http://deb.debian.org/debian/pool/main/i/insighttoolkit5/insighttoolkit5_${ITK_VERSION}.orig.tar.xz}"
ITK_SHA256=339134599f7b7c3cbeed8f5e2a59d0a218ec7e93c5c6a08f347fce73ba85f03c
SITK_URL=https://files.pythonhosted.org/packages/28/8f/c21ee6dc4dbede4fc385b5d70703d45f749db2738c7b0c175546f43c9f86/simpleitk-2.5.5.tar.gz
SITK_SHA256=254f70febed55868801c89f310e650eb1b87148d82b1d4e3628d8f0181a7f529
# SimpleITK's required ITK modules, then those of the filters HeartTwin calls, then the file
# formats it reads and writes (NRRD, NIfTI, MetaImage; GDCM is required by SimpleITK)
ITK_MODULES="ITKCommon ITKDisplacementField ITKIOGDCM ITKIOImageBase ITKIOTransformBase
  ITKImageCompose ITKImageIntensity ITKLabelMap ITKMetricsv4 ITKOptimizersv4
  ITKRegistrationMethodsv4 ITKTransform ITKTransformFactory ITKImageFunction
  ITKImageGrid ITKThresholding ITKBinaryMathematicalMorphology ITKImageFilterBase ITKSmoothing
  ITKDistanceMap ITKPDEDeformableRegistration ITKWatersheds ITKImageGradient ITKCurvatureFlow
  ITKDenoising ITKIONRRD ITKIONIFTI ITKIOMeta ITKIOTransformInsightLegacy"
JOBS="$(nproc)"
say() { printf 'slim SimpleITK: %s\n' "$*" >&2; }
mkdir -p "$W/downloads"
W="$(cd "$W" && pwd)"

key="$(cat "${BASH_SOURCE[0]}" "$HERE/prune_filters.py" <("$PY" "$HERE/prune_filters.py" --used "$ROOT") \
       <("$PY" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
if [[ -f "$W/wheel/$key.done" ]]; then
  ls "$W"/wheel/*.whl; exit 0
fi

command -v g++ >/dev/null || { say "needs a C++ compiler (apt-get install g++)"; exit 1; }
if ! command -v lua5.4 >/dev/null && ! command -v lua5.3 >/dev/null; then
  (( EUID == 0 )) || { say "needs lua5.4 (apt-get install lua5.4)"; exit 1; }
  say "installing lua5.4 (SimpleITK's code generator)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q lua5.4 >/dev/null
fi

fetch() {  # URL SHA256 -> path in downloads/
  local dest="$W/downloads/$(basename "$1")"
  if [[ ! -f "$dest" ]] || ! echo "$2  $dest" | sha256sum -c --status; then
    say "downloading $(basename "$1")"
    "$PY" -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$dest.part"
    echo "$2  $dest.part" | sha256sum -c --status || { say "checksum mismatch for $1"; exit 1; }
    mv "$dest.part" "$dest"
  fi
  echo "$dest"
}
itk_tar="$(fetch "$ITK_URL" "$ITK_SHA256")"
sitk_tar="$(fetch "$SITK_URL" "$SITK_SHA256")"

if [[ ! -x "$W/tools/bin/swig" ]]; then
  say "build tools (cmake, ninja, swig) from PyPI"
  "$PY" -m venv "$W/tools"
  "$W/tools/bin/python" -m pip install -q "cmake>=3.22" ninja "swig>=4.1" setuptools wheel
fi
export PATH="$W/tools/bin:$PATH"
FLAGS="-ffunction-sections -fdata-sections"
# the extension is linked by gold (or lld) with safe identical-code folding: the same template
# code instantiated for pixel types of one size is kept once (82 -> 68 MB); functions whose
# address is taken are never folded
if command -v ld.gold >/dev/null; then LD=gold
elif command -v ld.lld >/dev/null; then LD=lld
else
  (( EUID == 0 )) || { say "needs the gold or lld linker (apt-get install binutils-gold, or lld)"; exit 1; }
  say "installing the lld linker"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q lld >/dev/null
  LD=lld
fi
LINK="-fuse-ld=$LD -Wl,--icf=safe -Wl,--gc-sections -s"

# --- ITK: only the modules above, static, position independent -------------------------------
if [[ ! -f "$W/itk-build/.done" ]] || [[ "$(cat "$W/itk-build/.done")" != "$ITK_MODULES" ]]; then
  if [[ ! -d "$W/InsightToolkit-$ITK_VERSION" ]]; then
    say "unpacking ITK $ITK_VERSION"
    tar -C "$W" -xJf "$itk_tar"
  fi
  mods=(); for m in $ITK_MODULES; do mods+=("-DModule_$m:BOOL=ON"); done
  mkdir -p "$W/itk-build"
  say "configuring ITK"
  cmake -S "$W/InsightToolkit-$ITK_VERSION" -B "$W/itk-build" -G Ninja -Wno-dev \
    -DCMAKE_BUILD_TYPE=Release -DITK_BUILD_DEFAULT_MODULES:BOOL=OFF "${mods[@]}" \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF -DBUILD_EXAMPLES=OFF -DITK_WRAP_PYTHON=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_VISIBILITY_INLINES_HIDDEN=ON \
    -DITK_LEGACY_REMOVE=ON -DITK_FORBID_DOWNLOADS=ON \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" > "$W/itk-configure.log"
  say "building ITK ($JOBS jobs; log: $W/itk-build.log)"
  ninja -C "$W/itk-build" -j "$JOBS" > "$W/itk-build.log"
  echo "$ITK_MODULES" > "$W/itk-build/.done"
fi

# --- SimpleITK: pruned sources, one static Python extension ------------------------------------
# compiled -O2, as Linux distributions build, instead of CMake's Release -O3: the filters are
# instantiated for every pixel type, and -O3's extra inlining and loop versioning multiply that
rm -rf "$W/sitk-src" "$W/sitk-build" "$W/wheel"
mkdir -p "$W/sitk-src" "$W/wheel"
tar -C "$W/sitk-src" --strip-components=2 -xzf "$sitk_tar" "$(tar -tzf "$sitk_tar" | head -1 | cut -d/ -f1)/SimpleITK"
"$PY" "$HERE/prune_filters.py" "$W/sitk-src" "$ROOT" >&2
# the extension exports only its init function: everything else is internal, so the linker's
# --gc-sections drops what the wrappers never reach (stock exports ~34000 symbols; -8 MB)
printf '{\n  global: PyInit__SimpleITK;\n  local: *;\n};\n' > "$W/sitk-src/Wrapping/Python/symbols.map"
say "configuring SimpleITK"
cmake -S "$W/sitk-src" -B "$W/sitk-build" -G Ninja -Wno-dev \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DITK_DIR="$W/itk-build" -DBUILD_SHARED_LIBS=OFF \
  -DBUILD_TESTING=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOXYGEN=OFF -DWRAP_DEFAULT=OFF -DWRAP_PYTHON=ON \
  -DSimpleITK_PYTHON_USE_VIRTUALENV=OFF -DSimpleITK_FORBID_DOWNLOADS=ON \
  -DSimpleITK_MAX_DIMENSION=3 -DSimpleITK_BUILD_DISTRIBUTE=ON \
  -DSimpleITK_PYTHON_USE_LIMITED_API=OFF -DPython_EXECUTABLE="$W/tools/bin/python" \
  -DPython_ROOT_DIR="$("$PY" -c 'import sys; print(sys.base_prefix)')" \
  -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_MODULE_LINKER_FLAGS="$LINK" \
  -DCMAKE_SHARED_LINKER_FLAGS="$LINK" > "$W/sitk-configure.log"
say "building SimpleITK ($JOBS jobs; log: $W/sitk-build.log)"
ninja -C "$W/sitk-build" -j "$JOBS" > "$W/sitk-build.log"
(cd "$W/sitk-build/Wrapping/Python" && "$W/tools/bin/python" setup.py -q bdist_wheel -d "$W/sitk-build/wheel") >> "$W/sitk-build.log" 2>&1
cp "$W"/sitk-build/wheel/*.whl "$W/wheel/"
touch "$W/wheel/$key.done"
ls "$W"/wheel/*.whl

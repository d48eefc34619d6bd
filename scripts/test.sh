#!/usr/bin/env bash
# Installs what is missing (system libraries, .venv with test tools), checks
# the import layering, then runs the whole test suite headless.
# Extra arguments go to pytest (e.g. scripts/test.sh -k dicom).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh --test

# Headless: Qt draws offscreen, VTK renders through OSMesa (real pixels).
export QT_QPA_PLATFORM=offscreen
export VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow
export PYTHONDONTWRITEBYTECODE=1

echo "== import layering (import-linter) =="
.venv/bin/lint-imports

echo "== static checks (pyflakes) =="
.venv/bin/python -m pyflakes app tests bench

echo "== tests =="
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "no tests were collected" >&2
fi
exit $status

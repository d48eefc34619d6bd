#!/usr/bin/env bash
# Installs what is missing, then opens HeartTwin on the bundled sample case
# (or on the path given as argument).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/hearttwin" "${@:-$ROOT/sample_dicom}"

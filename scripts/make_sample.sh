#!/bin/sh
# Regenerate sample_dicom/ (synthetic cardiac CT, seed 2024) deterministically; run from the repo root.
exec "${PYTHON:-.venv/bin/python}" -m hearttwin phantom sample_dicom --preset sample --seed 2024 --rle --force -q

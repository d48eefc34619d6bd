"""Devices: the catalogue of generic device families, their parametric geometry,
placement (4x4 poses in LPS) and the static fit of a placed device."""

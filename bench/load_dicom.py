"""Benchmark: HeartTwin's DICOM loader vs SimpleITK's ImageSeriesReader.

Writes a 512 x 512 x 300 CT series (uncompressed, realistic header, random
file names) to a temporary folder, then times each reader in fresh
subprocesses (best of a few repeats) and measures peak memory above the
post-import baseline (ru_maxrss). Targets: time within 1.3x SimpleITK's,
peak memory under 2.5x the int16 volume size.

    python bench/load_dicom.py [--slices 300] [--repeats 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TIME_FACTOR = 1.3
MEMORY_FACTOR = 2.5

CHILD = r'''
import json, resource, sys, time
which, folder = sys.argv[1], sys.argv[2]
import numpy as np
if which == "hearttwin":
    from hearttwin.core.imaging import load_volume
    import hearttwin.core.imaging.loader, pydicom.pixels  # noqa: F401 (all imports before the baseline)
else:
    import SimpleITK as sitk
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if which == "hearttwin":
    v = load_volume(folder)
    arr, spacing = v.array, v.spacing
else:
    names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(names)
    reader.SetOutputPixelType(sitk.sitkInt16)
    img = reader.Execute()
    arr, spacing = sitk.GetArrayViewFromImage(img), img.GetSpacing()
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mib": (peak - base) / 1024, "shape": list(arr.shape),
                  "dtype": str(arr.dtype), "checksum": int(arr[::7, ::5, ::3].astype(np.int64).sum()),
                  "spacing": list(spacing)}))
'''


def write_series(folder: Path, nz: int, size: int = 512) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    body = ((xx - size / 2) ** 2 / (size * 0.42) ** 2 + (yy - size / 2) ** 2 / (size * 0.33) ** 2) < 1
    series_uid, study_uid, for_uid = generate_uid(), generate_uid(), generate_uid()
    names = random.Random(1)
    for k in range(nz):
        hu = np.where(body, 40, -1000) + rng.integers(-20, 20, size=(size, size))
        hu[(xx - 250) ** 2 + (yy - 240 - k % 20) ** 2 < 900] = 350  # contrast-filled "aorta"
        stored = (hu + 1024).astype(np.uint16)
        uid = generate_uid()
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, uid
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, for_uid
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Bench^Patient", "BENCH01", "19600101"
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240101"
        ds.StudyTime = ds.ContentTime = "101010"
        ds.Modality, ds.Manufacturer, ds.ManufacturerModelName = "CT", "Synthetic", "Bench 64"
        ds.SeriesNumber, ds.SeriesDescription = 3, "CTA 0.6 ARTERIAL"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceNumber, ds.AcquisitionNumber = k + 1, 1
        ds.KVP, ds.XRayTubeCurrent, ds.ConvolutionKernel = 120, 300, "B26f"
        ds.SliceThickness, ds.SpacingBetweenSlices = 0.6, 0.5
        ds.ImagePositionPatient = [-175.0, -190.0, -50.0 + 0.5 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.68, 0.68]
        ds.SliceLocation = -50.0 + 0.5 * k
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-D3000", "SRT", "Chest"
        ds.AnatomicRegionSequence = Sequence([item])
        ds.add_new((0x0029, 0x0010), "LO", "SYNTH PRIVATE")
        ds.add_new((0x0029, 0x1010), "OB", bytes(rng.integers(0, 255, 4000, dtype=np.uint8)))
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = stored.tobytes()
        ds.save_as(folder / f"{names.getrandbits(48):012x}", enforce_file_format=True)


def run_child(which: str, folder: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, which, str(folder)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", help="write the series here and keep it (reused if present)")
    args = ap.parse_args(argv)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ht-bench-"))
    try:
        if not (tmp.exists() and any(tmp.iterdir())) or not args.keep:
            tmp.mkdir(parents=True, exist_ok=True)
            print(f"writing {args.slices} slices of 512 x 512 to {tmp} ...", file=sys.stderr)
            write_series(tmp, args.slices)
        results = {}
        for which in ("simpleitk", "hearttwin"):
            runs = [run_child(which, tmp) for _ in range(args.repeats)]
            results[which] = {"seconds": min(r["seconds"] for r in runs),
                              "peak_mib": min(r["peak_mib"] for r in runs), "last": runs[-1]}
        h, s = results["hearttwin"], results["simpleitk"]
        same = h["last"]["checksum"] == s["last"]["checksum"] and h["last"]["shape"] == s["last"]["shape"]
        volume_mib = args.slices * 512 * 512 * 2 / 2**20
        print(f"{'reader':<12}{'seconds':>10}{'peak MiB':>10}  dtype")
        for name, r in (("SimpleITK", s), ("HeartTwin", h)):
            print(f"{name:<12}{r['seconds']:>10.3f}{r['peak_mib']:>10.1f}  {r['last']['dtype']}")
        ok_time = h["seconds"] <= TIME_FACTOR * s["seconds"]
        ok_mem = h["peak_mib"] <= MEMORY_FACTOR * volume_mib
        print(f"time   {h['seconds'] / s['seconds']:.2f}x SimpleITK (target <= {TIME_FACTOR}x): "
              f"{'PASS' if ok_time else 'FAIL'}")
        print(f"memory {h['peak_mib']:.0f} MiB for a {volume_mib:.0f} MiB int16 volume "
              f"(target <= {MEMORY_FACTOR * volume_mib:.0f} MiB): {'PASS' if ok_mem else 'FAIL'}")
        print(f"same voxels as SimpleITK: {'PASS' if same else 'FAIL'}")
        return 0 if ok_time and ok_mem and same else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

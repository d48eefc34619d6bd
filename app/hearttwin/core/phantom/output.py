"""Write a phantom to disk: DICOM series, label maps (NRRD) and truth.json.

Layout of the output folder::

    OUT/dicom/              one CT series (all phases, random file names)
    OUT/labels.nrrd         label map of the first phase (end-diastole)
    OUT/labels_phase00.nrrd ... one per phase when there are several
    OUT/truth.json          ground truth and all sampled parameters
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .. import jobs
from ..errors import InputError
from ..imaging.dicom_write import new_study, write_ct_series
from .chambers import layout
from .generate import iter_phases
from .params import PhantomParams
from .truth import build_truth, geometry, label_volumes

#: RR interval used for TriggerTime (60 bpm)
RR_MS = 1000.0


def _check_output(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"Output {out_dir.name!r} exists and is not a folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not force:
            raise InputError(f"Output folder {out_dir} is not empty; choose an empty or new "
                             "folder, or pass --force to write into it.")
        # overwrite only what a previous phantom run wrote
        for old in (out_dir / "dicom").glob("*.dcm") if (out_dir / "dicom").is_dir() else []:
            old.unlink()
        for old in list(out_dir.glob("labels*.nrrd")) + [out_dir / "truth.json"]:
            if old.exists():
                old.unlink()


def _write_labels(volume, path: Path) -> None:
    import SimpleITK as sitk

    img = volume.to_sitk()
    img = sitk.Cast(img, sitk.sitkUInt8)
    sitk.WriteImage(img, str(path), useCompression=True)


def write_phantom(params: PhantomParams, out_dir, *, force: bool = False, rle: bool = False,
                  progress=None) -> dict:
    """Generate ``params`` and write it to ``out_dir``; returns a summary.

    Parameters
    ----------
    params : PhantomParams
        What to generate.
    out_dir : path
        Output folder; must be empty or new unless ``force``.
    force : bool
        Write into a non-empty folder (replacing a previous phantom's files).
    rle : bool
        DICOM pixel data RLE Lossless instead of uncompressed (about half the size).
    progress : jobs.Progress, optional
        Progress sink; cancelling raises CancelledError.

    Returns
    -------
    dict
        Paths, geometry and truth highlights (also what ``--json`` prints).
    """
    t0 = time.monotonic()
    out_dir = Path(out_dir)
    _check_output(out_dir, force)
    out_dir.mkdir(parents=True, exist_ok=True)
    dicom_dir = out_dir / "dicom"
    n = int(params.phases)
    # UIDs derived from the parameters: the same phantom gives the same files
    entropy = "hearttwin-phantom:" + json.dumps(params.to_dict(), sort_keys=True)
    study = new_study(patient_name=f"PHANTOM^SEED{params.seed}",
                      patient_id=f"HT-PHANTOM-{params.seed:06d}", entropy=entropy)
    names_rng = np.random.default_rng([int(params.seed), 3])
    phase_truth, files, label_files, volume = [], 0, [], None
    for result in iter_phases(params, jobs.SubProgress(progress, 0, 0.6 * n, n)
                              if progress is not None else None):
        i = result.index
        sub = jobs.SubProgress(progress, 0.6 * n + 0.4 * i, 0.6 * n + 0.4 * (i + 1), n) \
            if progress is not None else None
        phase_tags = {"phase": result.phase, "index": i + 1, "rr_ms": RR_MS} if n > 1 else None
        desc = "Synthetic cardiac CTA" + (f" {n} phases" if n > 1 else "")
        paths = write_ct_series(result.image, dicom_dir, rng=names_rng, series_number=2,
                                series_description=desc, study=study, phase=phase_tags,
                                instance_offset=i * result.image.array.shape[0], rle=rle,
                                progress=sub)
        files += len(paths)
        if i == 0:
            _write_labels(result.labels, out_dir / "labels.nrrd")
            label_files.append(out_dir / "labels.nrrd")
            volume = result.image
        if n > 1:
            path = out_dir / f"labels_phase{i:02d}.nrrd"
            _write_labels(result.labels, path)
            label_files.append(path)
        phase_truth.append({"phase": result.phase, "landmarks": result.landmarks,
                            "calcium": result.calcium,
                            "volumes": label_volumes(result.labels.array,
                                                     result.labels.voxel_volume_mm3)})
    truth = build_truth(params, layout(params.anatomy), phase_truth)
    truth["geometry"] = geometry(volume)
    truth["dicom"] = {"folder": "dicom", "files": files, "series_description": desc,
                      "study_instance_uid": str(study["StudyInstanceUID"]),
                      "series_instance_uid": str(study["SeriesInstanceUID"]),
                      "frame_of_reference_uid": str(study["FrameOfReferenceUID"])}
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    jobs.report(progress, n, n, "Phantom written")
    summary = {
        "output": str(out_dir),
        "dicom_dir": str(dicom_dir),
        "dicom_files": files,
        "labels": [str(p) for p in label_files],
        "truth": str(out_dir / "truth.json"),
        "seed": params.seed,
        "phases": truth["phases"],
        "size": truth["geometry"]["size"],
        "spacing_mm": truth["geometry"]["spacing_mm"],
        "structures": truth["structures"],
        "myocardial_mass_g": truth["myocardial_mass_g"],
        "annulus": truth["annulus"],
        "coronary_ostia": truth["coronary_ostia"],
        "seconds": round(time.monotonic() - t0, 2),
    }
    for key in ("lv", "rv"):
        if key in truth:
            summary[key] = truth[key]
    return summary

"""``hearttwin simulate [PATH]``: the 0D beating-heart simulation (PV loops, EF, pressures).

Without PATH the default adult is simulated, adjusted by the options given
(heart rate, cuff pressures, chamber volumes, valve areas, shunt). With PATH
(a label map, or a CT segmented automatically or named by ``--labels``, as
for ``hearttwin measure``) the chamber volumes come from the segmentation,
taken as end-diastolic, and the model is fitted to them. ``-o FILE``
writes the full result (with PV loops and waveforms) as JSON.

``--credibility -o report.html`` instead computes the credibility evidence
(code and calculation verification, validation, sensitivity of the fit
metrics; FDA 2023 guidance / ASME V&V 40) for a device planned on PATH (by
default the bundled sample case with a balloon-expandable valve) and writes
it as a self-contained, anonymised HTML report; ``--json`` prints the figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..core.errors import InputError

# option -> (personalisation target, help)
TARGET_OPTIONS = {
    "lv_edv": ("lv_edv_ml", "LV end-diastolic volume (mL)"),
    "lv_esv": ("lv_esv_ml", "LV end-systolic volume (mL)"),
    "rv_edv": ("rv_edv_ml", "RV end-diastolic volume (mL)"),
    "rv_esv": ("rv_esv_ml", "RV end-systolic volume (mL)"),
    "la_volume": ("la_ed_ml", "LA volume at end-diastole (mL)"),
    "ra_volume": ("ra_ed_ml", "RA volume at end-diastole (mL)"),
    "systolic": ("systolic_mmhg", "cuff systolic pressure (mmHg)"),
    "diastolic": ("diastolic_mmhg", "cuff diastolic pressure (mmHg)"),
}
# option (mm2) -> (parameter in cm2, help)
AREA_OPTIONS = {
    "aortic_eoa": ("aortic_eoa_cm2", "aortic valve effective orifice area (mm2; normal ~350)"),
    "mitral_eoa": ("mitral_eoa_cm2", "mitral valve effective orifice area (mm2; normal ~500)"),
    "tricuspid_eoa": ("tricuspid_eoa_cm2", "tricuspid effective orifice area (mm2)"),
    "pulmonary_eoa": ("pulmonary_eoa_cm2", "pulmonary valve effective orifice area (mm2)"),
    "aortic_regurgitation": ("aortic_regurgitant_area_cm2", "aortic regurgitant orifice (mm2)"),
    "mitral_regurgitation": ("mitral_regurgitant_area_cm2", "mitral regurgitant orifice (mm2)"),
    "tricuspid_regurgitation": ("tricuspid_regurgitant_area_cm2",
                                "tricuspid regurgitant orifice (mm2)"),
    "pulmonary_regurgitation": ("pulmonary_regurgitant_area_cm2",
                                "pulmonary regurgitant orifice (mm2)"),
    "lvot_area": ("lvot_area_cm2", "LVOT obstruction orifice, e.g. a neo-LVOT (mm2)"),
    "asd_area": ("asd_area_cm2", "atrial septal defect orifice (mm2)"),
}


#: the device of the credibility report when none is named
DEFAULT_DEVICE = "thv-balloon"


def register(sub, common) -> None:
    p = sub.add_parser(
        "simulate", parents=[common],
        help="0D beating-heart simulation: PV loops, volumes, EF, pressures, cardiac output",
        description="Closed-loop lumped-parameter circulation (time-varying elastance chambers, "
        "four valves, systemic and pulmonary circulations) run to the periodic steady state. "
        "Defaults are a normal resting adult; volumes and cuff pressures personalise it.",
    )
    p.add_argument("path", metavar="PATH", nargs="?",
                   help="label map or CT (as for `hearttwin measure`): chamber volumes to fit")
    p.add_argument("--labels", metavar="LABELS", help="label map of the CT in PATH")
    p.add_argument("--heart-rate", type=float, metavar="BPM", help="heart rate (default 70)")
    for opt, (_, text) in TARGET_OPTIONS.items():
        p.add_argument("--" + opt.replace("_", "-"), type=float, metavar="V", help=text)
    for opt, (_, text) in AREA_OPTIONS.items():
        p.add_argument("--" + opt.replace("_", "-"), type=float, metavar="MM2", help=text)
    p.add_argument("--loops", action="store_true",
                   help="include PV-loop and waveform samples in --json output")
    p.add_argument("--steps", type=int, metavar="N", help="time steps per beat (default: 10 ms steps)")
    p.add_argument("--max-beats", type=int, default=100, metavar="N",
                   help="stop after N beats if no steady state (default 100)")
    p.add_argument("--credibility", action="store_true",
                   help="write the credibility report (verification, validation, sensitivity) "
                   "to -o REPORT.html; PATH defaults to the bundled sample case")
    p.add_argument("--device", metavar="ID", default=None,
                   help=f"with --credibility: device planned (default {DEFAULT_DEVICE})")
    p.add_argument("--size", type=float, help="with --credibility: device size (default: the chart's)")
    p.set_defaults(func=run)


def _targets(args, progress) -> tuple[dict, list[str]]:
    targets = {t: getattr(args, opt) for opt, (t, _) in TARGET_OPTIONS.items()}
    warnings: list[str] = []
    if args.path:
        from ..core import jobs
        from ..core.anatomy.chambers import measure_chambers
        from .measure import load_inputs

        labels, _, warnings = load_inputs(args, jobs.SubProgress(progress, 0, 40, 100))
        chambers, more = measure_chambers(labels)
        warnings += more
        for key, target in (("LV", "lv_edv_ml"), ("RV", "rv_edv_ml"), ("LA", "la_ed_ml"),
                            ("RA", "ra_ed_ml")):
            volume = chambers.get(key, {}).get("volume_ml", 0.0)
            if targets[target] is None and volume > 0:
                targets[target] = volume
        warnings.append("Chamber volumes from the segmentation are taken as end-diastolic.")
    return {k: v for k, v in targets.items() if v is not None}, warnings


def run(args, progress) -> dict:
    if args.credibility:
        return run_credibility(args, progress)
    if args.device or args.size is not None:
        raise InputError("--device and --size go with --credibility (for a plan: hearttwin plan).")
    from ..core import jobs
    from ..core.simulation import CirculationParams, fit, simulate, to_json

    t0 = time.perf_counter()
    if args.labels and not args.path:
        raise InputError("--labels names the label map of the CT in PATH; give PATH too.")
    changes = {}
    if args.heart_rate is not None:
        changes["heart_rate_bpm"] = args.heart_rate
    for opt, (param, _) in AREA_OPTIONS.items():
        value = getattr(args, opt)
        if value is not None:
            if value < 0 or (value == 0 and not opt.endswith(("regurgitation", "asd_area"))):
                raise InputError(f"--{opt.replace('_', '-')} must be positive (mm2).")
            changes[param] = value / 100.0
    params = CirculationParams(**changes)
    targets, warnings = _targets(args, progress)
    sim = {"steps_per_beat": args.steps, "max_beats": args.max_beats}
    sub = jobs.SubProgress(progress, 40 if args.path else 0, 100, 100)
    if targets:
        fitted = fit(params, targets, progress=sub, **sim)
        result = fitted.result
        if not fitted.converged:
            worst = max(fitted.errors, key=lambda k: abs(float(fitted.errors[k][0])))
            warnings.append(f"Personalisation did not meet every target: {worst} is off by "
                            f"{100 * float(fitted.errors[worst][0]):.1f} %.")
    else:
        fitted = None
        result = simulate(params, progress=sub, **sim)
    out = to_json(result, 0, loops=args.loops or bool(args.output))
    if not result.converged[0]:
        warnings.append(f"No periodic steady state within {args.max_beats} beats; numbers are "
                        "from the last beat.")
    if fitted is not None:
        out["personalisation"] = {"targets": {k: round(float(v), 2) for k, v in targets.items()},
                                  "iterations": fitted.iterations, "converged": fitted.converged}
    out["warnings"] = warnings
    out["seconds"] = round(time.perf_counter() - t0, 3)
    if args.output:
        import json
        from pathlib import Path

        Path(args.output).write_text(json.dumps(out, indent=1) + "\n")
        if not args.loops:
            out = {k: v for k, v in out.items() if k not in ("pv_loops", "waveforms")}
    if not args.json:
        print_summary(out, sys.stdout)
        for w in warnings:
            sys.stderr.write(f"warning: {w}\n")
    return out


def sample_case() -> Path:
    """The bundled sample case folder (``dicom/`` and ``labels.nrrd``)."""
    from ..core.resources import bundled_candidates

    candidates = bundled_candidates("sample_dicom", "HEARTTWIN_SAMPLE")
    for path in candidates:
        if (path / "dicom").is_dir():
            return path
    raise InputError("The sample case was not found (looked in: " + ", ".join(map(str, candidates))
                     + "). Give PATH, or set HEARTTWIN_SAMPLE to the sample_dicom folder.")


def _case_inputs(args, progress):
    """Label map, CT, warnings and the folder to read identifiers from (PATH or the sample)."""
    from ..core import jobs

    if args.path:
        from .measure import load_inputs

        labels, image, warnings = load_inputs(args, jobs.SubProgress(progress, 0, 10, 100))
        return labels, image, warnings, Path(args.path), "input case"
    if args.labels:
        raise InputError("--labels names the label map of the CT in PATH; give PATH too.")
    from ..core.imaging import load_volume

    folder = sample_case()
    image = load_volume(folder / "dicom", progress=jobs.SubProgress(progress, 0, 3, 100))
    if (folder / "labels.nrrd").is_file():
        from ..core.segmentation.export import read_labels

        case = "bundled sample case (computer-generated CT with ground-truth labels)"
        return read_labels(folder / "labels.nrrd"), image, [], folder, case
    from ..core.segmentation.auto import segment_heart

    result = segment_heart(image, progress=jobs.SubProgress(progress, 3, 10, 100))
    return (result.labels, image, list(result.warnings), folder,
            "bundled sample case (computer-generated CT)")


def run_credibility(args, progress) -> dict:
    """``--credibility``: compute the evidence, write the HTML report, return the figures."""
    from .. import __version__
    from ..core import jobs
    from ..core.anatomy import measure_all
    from ..core.devices.catalogue import get_device
    from ..core.devices.plan import size_label
    from ..core.simulation.verification import credibility
    from ..report import read_identifiers, report_format, scrub, secret_strings
    from ..report.credibility import build_credibility_report, write_credibility_html

    if not args.output or report_format(args.output) != "html":
        raise InputError("--credibility writes an HTML report: give -o REPORT.html.")
    ignored = [opt for opt in (*TARGET_OPTIONS, *AREA_OPTIONS, "loops", "steps")
               if getattr(args, opt) not in (None, False)]
    if ignored:
        raise InputError(f"--{ignored[0].replace('_', '-')} does not apply to --credibility "
                         "(the report personalises the model to the case itself).")
    family = get_device(args.device or DEFAULT_DEVICE)  # a bad id fails before any work
    if args.size is not None:
        family.size(args.size)
    labels, image, warnings, source, case = _case_inputs(args, progress)
    measurements = measure_all(labels, image, progress=jobs.SubProgress(progress, 10, 20, 100))
    figures = credibility(labels, device_id=family.id,
                          size=None if args.size is None else size_label(args.size), image=image,
                          measurements=measurements, heart_rate_bpm=args.heart_rate,
                          progress=jobs.SubProgress(progress, 20, 98, 100))
    report = build_credibility_report(figures, case=case, version=__version__)
    scrub(report, secret_strings(read_identifiers(source)))
    write_credibility_html(report, args.output)
    jobs.report(progress, 100, 100, "Credibility report written")
    figures["report"] = Path(args.output).name
    figures["warnings"] = warnings + list(measurements.get("warnings", []))
    if not args.json:
        print_credibility(figures, sys.stdout)
    return figures


def print_credibility(fig: dict, out) -> None:
    """The headline figures of a credibility run."""
    cv = fig["code_verification"]
    out.write(f"Credibility report    {fig['report']} ({fig['seconds']:.0f} s)\n")
    out.write(f"Windkessel decay      relative error {cv['windkessel_decay']['relative_error']:.1e}\n")
    out.write(f"RC step               relative error {cv['rc_step']['max_relative_error']:.1e}\n")
    out.write(f"Blood volume drift    {cv['volume_conservation']['max_relative_drift']:.1e} "
              f"(target < 1e-6)\n")
    out.write(f"Observed order        {cv['observed_order']['order']:.2f}\n")
    val = fig["validation"]
    out.write(f"Validation            {val['passed']}/{val['total']} outputs in published normal "
              "ranges\n")
    sens = fig["sensitivity"]
    d = sens["device"]
    out.write(f"Sensitivity           {d['id']} size {d['size']}: nominal [min, max] over all runs\n")
    for key, value in sens["nominal"].items():
        lo, hi = sens["overall"][key + "_range"]
        out.write(f"  {key:<32} {value:8.2f}  [{lo:.2f}, {hi:.2f}]\n")


def print_summary(res: dict, out) -> None:
    """A short human-readable report of one simulation."""
    ao, pa = res["aortic_pressure_mmhg"], res["pulmonary_pressure_mmhg"]
    out.write(f"Heart rate            {res['heart_rate_bpm']:.0f} bpm\n")
    for key in ("lv", "rv"):
        c = res[key]
        out.write(f"{key.upper()}                    EDV {c['edv_ml']:.0f} mL  ESV {c['esv_ml']:.0f} mL  "
                  f"SV {c['sv_ml']:.0f} mL  EF {c['ef_percent']:.0f} %\n")
    out.write(f"Aortic pressure       {ao['systolic']:.0f}/{ao['diastolic']:.0f} "
              f"(mean {ao['mean']:.0f}) mmHg\n")
    out.write(f"Pulmonary pressure    {pa['systolic']:.0f}/{pa['diastolic']:.0f} "
              f"(mean {pa['mean']:.0f}) mmHg\n")
    out.write(f"Cardiac output        {res['cardiac_output_l_min']:.2f} L/min\n")
    for name, v in res["valves"].items():
        out.write(f"{name.capitalize():<22}mean gradient {v['mean_gradient_mmhg']:.1f} mmHg, "
                  f"regurgitant volume {v['regurgitant_volume_ml']:.1f} mL\n")
    if res["lvot_gradient_peak_mmhg"] > 0:
        out.write(f"LVOT gradient (peak)  {res['lvot_gradient_peak_mmhg']:.1f} mmHg\n")
    if abs(res["shunt_flow_l_min"]) > 0.005:
        out.write(f"Atrial shunt          {res['shunt_flow_l_min']:.2f} L/min, "
                  f"Qp/Qs {res['qp_qs']:.2f}\n")
    out.write(f"Steady state after {res['beats_to_steady_state']} beats "
              f"({res['seconds']:.2f} s)\n")

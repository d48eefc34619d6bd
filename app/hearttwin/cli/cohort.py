"""``hearttwin cohort``: a virtual cohort (in silico trial) on Dask, local or on a cluster.

Draws ``--patients`` virtual patients around the base anatomies, plans each
``--device`` at each of ``--sizes`` on every patient over the cardiac cycle,
and writes into the output folder (``-o``, default ``cohort-study``):
``results.csv`` (one row per patient x device x size), ``summary.csv``,
``metrics.csv``, ``at_risk.csv`` and ``report.html``. Rerunning with the same
folder resumes where an interrupted study stopped. The work runs on a local
cluster of ``--workers`` processes, or on the Dask cluster whose scheduler
is ``--scheduler tcp://HOST:PORT``.

The cohort package (and Dask) is imported only when the command runs.
"""

from __future__ import annotations

import sys

from ..core.errors import InputError

DEFAULT_OUTPUT = "cohort-study"


def register(sub, common) -> None:
    p = sub.add_parser(
        "cohort", parents=[common],
        help="virtual cohort (in silico trial): devices x sizes over many virtual patients, on Dask",
        description="Virtual patients from base anatomies (phantoms or .htwin cases) scaled and "
        "given a circulation drawn from stated distributions (seeded); every device and size "
        "planned on each over the cardiac cycle; results, summary and report in the output "
        "folder (-o). Interrupted studies resume when rerun with the same folder.",
    )
    p.add_argument("--patients", type=int, required=True, metavar="N", help="virtual patients")
    p.add_argument("--device", action="append", required=True, metavar="ID",
                   help="catalogue device id (see `hearttwin devices`); repeat for several")
    p.add_argument("--sizes", metavar="S,S,...",
                   help="sizes to plan, comma-separated (default: every size of the device)")
    p.add_argument("--seed", type=int, default=0, help="seed of the cohort (default 0)")
    p.add_argument("--base", action="append", metavar="BASE",
                   help="base anatomy: phantom:PRESET:SEED or a .htwin case with a label map; "
                   "repeat for several (default phantom:small:0, :1 and :2)")
    p.add_argument("--phases", type=int, metavar="N", help="phases of the cycle (default 10)")
    p.add_argument("--around", type=int, metavar="N",
                   help="rays around the device per level, the fit's resolution (default 72)")
    p.add_argument("--batch-size", type=int, metavar="N",
                   help="patients per Dask task (default: about 4 tasks per worker, at most 16)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="worker processes of the local cluster (default 2)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on this existing Dask cluster instead of a local one")
    p.set_defaults(func=run)


def parse_sizes(text: str | None) -> list[float]:
    """``"23,26,29"`` -> [23.0, 26.0, 29.0]; None -> [] (every size)."""
    if not text:
        return []
    try:
        return [float(s.strip().removesuffix("mm")) for s in text.split(",") if s.strip()]
    except ValueError as err:
        raise InputError(f"--sizes takes numbers separated by commas (e.g. 23,26,29), got {text!r}.") from err


def run(args, progress) -> dict:
    from ..cohort import StudySpec, run_study, write_report

    sizes = parse_sizes(args.sizes)
    options = {k: v for k, v in (("phases", args.phases), ("n_around", args.around),
                                 ("batch_size", args.batch_size)) if v is not None}
    if args.base:
        options["bases"] = args.base
    spec = StudySpec({d: sizes for d in args.device}, n_patients=args.patients, seed=args.seed,
                     **options)
    output = args.output or DEFAULT_OUTPUT
    info = run_study(spec, output, scheduler=args.scheduler, n_workers=args.workers,
                     progress=progress)
    report = write_report(output, spec, info)
    result = {"output": str(output), "results_csv": f"{output}/results.csv",
              "summary_csv": f"{output}/summary.csv", "report_html": str(report), **info}
    if not args.json:
        sys.stdout.write(f"{info['patients']} patients ({info['skipped_patients']} already done), "
                         f"{info['rows_written']} plans written, {info['failed_rows']} failed, "
                         f"{info['seconds']} s on {info['workers']} workers\n"
                         f"results: {result['results_csv']}\nreport:  {report}\n")
    return result

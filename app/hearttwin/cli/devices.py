"""``hearttwin devices [ID]``: the device catalogue (generic families, sizes, charts, rules).

Without ID: one table row per family. With ID: that family's sizes (expansion
range, sizing chart, geometry), fit rules and sources. ``--json`` prints
``{"devices": [family.to_json(), ...]}``; ``-o FILE`` also writes that JSON.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path


def register(sub, common) -> None:
    p = sub.add_parser(
        "devices", parents=[common],
        help="list the device catalogue (generic device families, sizes, sizing charts)",
        description="List the generic device families HeartTwin can place: their sizes, the "
        "measurement each is sized by, the sizing chart, fit rules and published sources.",
    )
    p.add_argument("device", metavar="ID", nargs="?",
                   help="show one family in detail (e.g. thv-balloon)")
    p.set_defaults(func=run)


def run(args, progress) -> dict:
    from ..core.devices.catalogue import get_device, load_catalogue

    families = [get_device(args.device)] if args.device else list(load_catalogue().values())
    data = {"devices": [f.to_json() for f in families]}
    if args.output:
        Path(args.output).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        if not args.quiet:
            sys.stderr.write(f"Wrote {Path(args.output).name}\n")
    if not args.json:
        if args.device:
            print_family(families[0], sys.stdout)
        else:
            print_table(families, sys.stdout)
    return data


def _fmt(x) -> str:
    return f"{round(float(x), 1):g}"


def _sizes_text(values) -> str:
    values = [_fmt(v) for v in values]
    if len(values) <= 6:
        return ", ".join(values)
    return f"{values[0]}-{values[-1]} ({len(values)} sizes)"


def _table(rows, out) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


def print_table(families, out) -> None:
    """One row per family: id, family, position, sizes, sizing measurement."""
    from ..core.devices.catalogue import SIZING_KEYS

    rows = [("ID", "Family", "Position", "Sizes (mm)", "Sized by")]
    for f in families:
        what, unit = SIZING_KEYS[f.sizing["by"]]
        rows.append((f.id, f.family, f.position, _sizes_text(f.size_values), f"{what} ({unit})"))
    _table(rows, out)
    out.write(f"\n{len(families)} device families. 'hearttwin devices ID' shows sizes, "
              "sizing chart, fit rules and sources.\n")


def _bounds(rule) -> str:
    lo = rule.caution_below if rule.caution_below is not None else rule.fail_below
    hi = rule.caution_above if rule.caution_above is not None else rule.fail_above
    text = "pass " + (f">= {_fmt(lo)}" if hi is None else f"<= {_fmt(hi)}" if lo is None
                      else f"{_fmt(lo)} to {_fmt(hi)}")
    fails = [f"< {_fmt(rule.fail_below)}" if rule.fail_below is not None else "",
             f"> {_fmt(rule.fail_above)}" if rule.fail_above is not None else ""]
    if any(fails):
        text += "; fail " + " or ".join(f for f in fails if f)
    return text


def print_family(f, out) -> None:
    """Everything about one family: sizes and chart, fit rules, sources."""
    from ..core.devices.catalogue import SIZING_KEYS

    what, unit = SIZING_KEYS[f.sizing["by"]]
    out.write(f"{f.family} ({f.id})\n{f.description}\n\n"
              f"Position: {f.position}; shape: {f.shape}; anchor: {f.placement['anchor']}; "
              f"radial stiffness {f.mechanics['radial_stiffness']:g}\n"
              f"Sized by {what} ({unit}).\n\n")
    chart = {row["size"]: row for row in f.sizing["chart"]}
    gkeys = list(f.sizes[0].geometry)
    rows = [("Size", "Nominal", "Min-max (mm)", f"Chart ({unit})",
             *(k.removesuffix("_mm") for k in gkeys))]
    for s in f.sizes:
        row = chart.get(s.size)
        rows.append((f"{s.label} mm", _fmt(s.nominal_diameter_mm),
                     f"{_fmt(s.min_diameter_mm)}-{_fmt(s.max_diameter_mm)}",
                     f"{_fmt(row['min'])}-{_fmt(row['max'])}" if row else "-",
                     *(_fmt(s.geometry[k]) for k in gkeys)))
    _table(rows, out)
    if f.sizing.get("note"):
        out.write(f"Note: {f.sizing['note']}\n")
    out.write("\nFit rules:\n")
    for r in f.fit_rules:
        source = f" [{r.source}]" if r.source else ""
        out.write(f"  {r.metric}: {_bounds(r)}{source}\n")
        out.write(textwrap.fill(r.why, width=96, initial_indent="      ",
                                subsequent_indent="      ") + "\n")
    out.write("\nSources:\n")
    for s in f.sources:
        out.write(textwrap.fill(f"[{s['id']}] {s['citation']}", width=96, initial_indent="  ",
                                subsequent_indent="      ") + f"\n      {s['url']}\n")

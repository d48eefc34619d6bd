"""`hearttwin devices`: --json keys of DESIGN.md, a neat table, detail view, bad id -> exit 2."""

from __future__ import annotations

import json


from hearttwin.cli import main

IDS = {"thv-balloon", "thv-self-expanding", "thv-mitral", "laa-plug", "asd-double-disc",
       "pulmonary-stent", "vascular-stent"}




def test_json_lists_every_family(capsys):
    assert main(["devices", "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["id"] for d in data["devices"]} == IDS
    for d in data["devices"]:
        assert {"id", "family", "sizes", "sizing", "fit_rules", "sources"} <= set(d)
        assert d["sizes"] == sorted(d["sizes"]) and len(d["sizes"]) == len(d["size_details"])
    balloon = next(d for d in data["devices"] if d["id"] == "thv-balloon")
    assert balloon["sizes"] == [20, 23, 26, 29]
    assert balloon["sizing"]["chart"][2] == {"size": 26, "min": 430, "max": 546}


def test_table_is_aligned(capsys):
    assert main(["devices", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:2 + len(IDS)]
    assert header.split()[:2] == ["ID", "Family"] and set(rule) <= {"-", " "}
    column = header.index("Family")
    for row in rows:
        assert row.split()[0] in IDS
        assert row[column - 2:column] == "  " and row[column] != " "  # column starts aligned
    assert any("20, 23, 26, 29" in r and "annulus area (mm2)" in r for r in rows)
    assert any("4-38 (26 sizes)" in r for r in rows)


def test_detail_view(capsys):
    assert main(["devices", "thv-self-expanding", "-q"]) == 0
    out = capsys.readouterr().out
    assert "Self-expanding supra-annular transcatheter aortic valve" in out
    assert "81.7-94.2" in out and "oversizing_perimeter_percent" in out and "https://" in out


def test_single_device_json_and_output_file(tmp_path, capsys):
    target = tmp_path / "catalogue.json"
    assert main(["devices", "laa-plug", "--json", "-q", "-o", str(target)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in printed["devices"]] == ["laa-plug"]
    assert json.loads(target.read_text()) == printed


def test_unknown_device_is_bad_input(capsys):
    assert main(["devices", "tavi-29", "-q"]) == 2
    err = capsys.readouterr().err
    assert "tavi-29" in err and "thv-balloon" in err and "Traceback" not in err

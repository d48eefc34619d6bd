"""``hearttwin measure`` on a label map written to disk (plus the CT)."""

import json

from hearttwin.cli import main
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams


def _write(tmp_path):
    import SimpleITK as sitk

    p = generate_phantom(PhantomParams.sample(5, "small")).phases[0]
    sitk.WriteImage(p.labels.to_sitk(), str(tmp_path / "labels.nrrd"))
    sitk.WriteImage(p.image.to_sitk(), str(tmp_path / "ct.nrrd"))
    return tmp_path / "ct.nrrd", tmp_path / "labels.nrrd"


def test_measure_json_keys(tmp_path, capsys):
    ct, labels = _write(tmp_path)
    assert main(["measure", str(ct), "--labels", str(labels), "--json", "-q"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("annulus", "coronary_ostia", "root", "lvot", "laa", "chambers", "coplanar_view",
                "warnings"):
        assert key in res
    for key in ("area_mm2", "perimeter_mm", "area_derived_diameter_mm",
                "perimeter_derived_diameter_mm", "min_diameter_mm", "max_diameter_mm",
                "eccentricity", "centre_lps", "normal_lps", "area_mm2_range"):
        assert key in res["annulus"]
    assert "left" in res["coronary_ostia"]
    assert {"point_lps", "height_mm"} <= set(res["coronary_ostia"]["left"])


def test_measure_label_map_alone_human_table(tmp_path, capsys):
    _, labels = _write(tmp_path)
    assert main(["measure", str(labels), "-q"]) == 0
    out = capsys.readouterr()
    assert "Aortic annulus" in out.out and "area_derived_diameter_mm" in out.out
    assert "ostia" in out.err


def test_measure_missing_path(tmp_path, capsys):
    assert main(["measure", str(tmp_path / "nope.nrrd"), "-q"]) == 2

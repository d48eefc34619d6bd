"""Cohort building blocks without Dask: sampling, the scaled field, worst phase, results file, summary."""

import csv
import dataclasses

import numpy as np
import pytest

from hearttwin.cohort.cycle import margin, radial_scales, worst_over_phases
from hearttwin.cohort.distributions import ANATOMY, HAEMODYNAMICS, Dist, sample_patient, sample_patients
from hearttwin.cohort.results import ResultsWriter, columns, read_rows
from hearttwin.cohort.scaled import ScaledField, anchor_frame, ellipse_perimeter, scale_ring
from hearttwin.cohort.study import StudySpec
from hearttwin.cohort.summary import at_risk, success_table
from hearttwin.core.devices.catalogue import get_device
from hearttwin.core.devices.field import AnatomyField
from hearttwin.core.errors import InputError
from hearttwin.core.imaging.volume import Volume

H = 0.4  # voxel (mm) of the synthetic tubes


def elliptic_tube(a: float, b: float, half: float = 22.0, length: float = 24.0) -> Volume:
    """Lumen (label 6) inside x^2/a^2 + y^2/b^2 <= 1 along z, wall (label 5) around it."""
    n = int(round(2 * half / H)) + 1
    nz = int(round(length / H)) + 1
    c = (np.arange(n) - (n - 1) / 2) * H
    inside = (c[None, :] / a) ** 2 + (c[:, None] / b) ** 2 <= 1.0
    arr = np.broadcast_to(np.where(inside, 6, 5).astype(np.uint8), (nz, n, n)).copy()
    return Volume(arr, (H,) * 3, origin=(c[0], c[0], -length / 2))


# ------------------------------------------------------------------ sampling
def test_patients_are_reproducible_and_independent_of_the_cohort_size():
    small = sample_patients(5, seed=3, bases=["a", "b"])
    large = sample_patients(40, seed=3, bases=["a", "b"])
    assert small == large[:5]
    assert sample_patient(3, 17, ["a", "b"]) == large[17]
    other = sample_patients(5, seed=4, bases=["a", "b"])
    assert all(p.scale != q.scale for p, q in zip(small, other))
    assert {p.base for p in large} == {"a", "b"}


def test_draws_respect_the_stated_bounds_and_centres():
    ps = sample_patients(400, seed=1, bases=["a"])
    for name, d in ANATOMY.items():
        v = np.array([getattr(p, name) for p in ps])
        assert v.min() >= d.low and v.max() <= d.high
    scale = np.array([p.scale for p in ps])
    assert np.median(scale) == pytest.approx(ANATOMY["scale"].loc, abs=0.02)
    assert np.std(np.log(scale)) == pytest.approx(ANATOMY["scale"].scale, rel=0.2)
    hr = np.array([p.haemodynamics["heart_rate_bpm"] for p in ps])
    assert hr.mean() == pytest.approx(HAEMODYNAMICS["heart_rate_bpm"].loc, abs=2.0)
    eoa = np.array([p.haemodynamics["aortic_eoa_cm2"] for p in ps])
    assert eoa.min() >= 0.6 and eoa.max() <= 1.0 and eoa.max() - eoa.min() > 0.3


def test_impossible_truncation_is_an_input_error():
    with pytest.raises(InputError, match="tail"):
        Dist("normal", 0.0, 1.0, 50.0, 60.0).sample(np.random.default_rng(0))


# ------------------------------------------------------------- scaled field
@pytest.fixture(scope="module")
def round_tube():
    return AnatomyField.from_labels(elliptic_tube(10.0, 10.0), (6,))


def test_isotropic_scaled_field_is_the_scaled_distance(round_tube):
    """SDF_s(x) = s SDF(x / s): the base tube of radius 10 seen as one of radius 12.5."""
    scaled = ScaledField(round_tube, [0, 0, 0], anchor_frame([0, 0, 1], [1, 0, 0]), (1.25,) * 3)
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    for rho in (2.0, 8.0, 11.5, 12.0, 13.0, 15.0):
        pts = np.stack([rho * np.cos(ang), rho * np.sin(ang), np.linspace(-4, 4, 16)], axis=-1)
        # the base's voxelisation error (about 0.3 mm) scales with it
        np.testing.assert_allclose(scaled.sample(pts), 12.5 - rho, atol=0.3 * 1.25 + 0.05)
    # the wall moved: a point at radius 11 is tissue in the base, lumen in the scaled-up patient
    assert round_tube.sample([[11.0, 0, 0]])[0] < 0 < scaled.sample([[11.0, 0, 0]])[0]


def test_anisotropic_scaled_field_near_the_wall(round_tube):
    """An ellipse 12 x 9 from the round tube: near the wall it reads the rebuilt field's distances."""
    truth = AnatomyField.from_labels(elliptic_tube(12.0, 9.0), (6,))
    scaled = ScaledField(round_tube, [0, 0, 0], anchor_frame([0, 0, 1], [1, 0, 0]), (1.2, 0.9, 1.0))
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    for k in (0.9, 0.97, 1.03, 1.1):  # near the wall, where the fit reads the field
        pts = np.stack([k * 12.0 * np.cos(ang), k * 9.0 * np.sin(ang), np.zeros(16)], axis=-1)
        want = truth.sample(pts)
        got = scaled.sample(pts)
        assert np.all(np.sign(got) == np.sign(want))  # the wall is where it should be
        # the in-plane-mean distance scale: within 0.4 mm + 20 % of the distance
        assert np.all(np.abs(got - want) <= 0.4 + 0.2 * np.abs(want))


def test_scaled_ring_areas_diameters_and_perimeter():
    ring = {"area_mm2": np.pi * 12 * 10, "perimeter_mm": float(ellipse_perimeter(12, 10)),
            "max_diameter_mm": 24.0, "min_diameter_mm": 20.0, "eccentricity": 1 - 20 / 24,
            "centre_lps": [1, 2, 3], "area_mm2_range": [1, 2]}
    iso = scale_ring(ring, (1.1, 1.1, 1.0))
    assert iso["area_mm2"] == pytest.approx(ring["area_mm2"] * 1.21)
    assert iso["perimeter_mm"] == pytest.approx(ring["perimeter_mm"] * 1.1)
    assert "area_mm2_range" not in iso and iso["centre_lps"] == [1, 2, 3]
    aniso = scale_ring(ring, (1.2, 0.8, 1.0))
    assert aniso["max_diameter_mm"] == pytest.approx(28.8) and aniso["min_diameter_mm"] == pytest.approx(16.0)
    assert aniso["eccentricity"] == pytest.approx(1 - 16 / 28.8)
    t = np.linspace(0, 2 * np.pi, 20001)  # the scaled ellipse's perimeter, numerically
    numeric = np.sum(np.hypot(np.diff(14.4 * np.cos(t)), np.diff(8.0 * np.sin(t))))
    assert aniso["perimeter_mm"] == pytest.approx(numeric, rel=1e-4)


# ----------------------------------------------------------- over the cycle
def test_radial_scale_follows_pressure():
    p = np.array([80.0, 120.0, 100.0, 78.0])
    lam = radial_scales(p, 0.05)
    assert lam[0] == pytest.approx(1.0)
    assert lam[1] == pytest.approx(np.sqrt(1 + 0.05 * 40 / 42))
    assert np.argmax(lam) == 1 and lam[3] < 1.0


def test_worst_phase_uses_the_rule_margin_or_the_bad_direction():
    fam = get_device("thv-balloon")
    rule = fam.rule("oversizing_area_percent")
    assert rule is not None
    per_phase = [(0.0, {"oversizing_area_percent": 10.0, "max_penetration_mm": 1.0}),
                 (0.3, {"oversizing_area_percent": -4.0, "max_penetration_mm": 2.5}),
                 (0.6, {"oversizing_area_percent": 6.0, "max_penetration_mm": 0.5})]
    worst = worst_over_phases(fam, per_phase)
    expected = min(per_phase, key=lambda tm: margin(rule, tm[1]["oversizing_area_percent"]))
    assert worst["oversizing_area_percent"] == (expected[0], expected[1]["oversizing_area_percent"])
    assert worst["max_penetration_mm"] == (0.3, 2.5)  # no rule: deeper is worse


# ------------------------------------------------------------ results file
def _row(pid, size, **kw):
    return {"patient_id": pid, "device": "thv-balloon", "size": size, "status": "ok",
            "overall": "pass", **kw}


def test_writer_dedupes_and_recovers_a_torn_line(tmp_path):
    path = tmp_path / "results.csv"
    w = ResultsWriter(path)
    assert w.write([_row("P1", 23), _row("P1", 26)]) == 2
    assert w.write([_row("P1", 23), _row("P2", 23, error="a\nb")]) == 1  # P1/23 again: skipped
    with open(path, "a") as f:
        f.write("P3,thv-balloon,23,half a li")  # killed mid-write
    again = ResultsWriter(path)
    assert again.done == {("P1", "thv-balloon", "23"), ("P1", "thv-balloon", "26"),
                          ("P2", "thv-balloon", "23")}
    assert again.write([_row("P3", 23.0)]) == 1
    rows = read_rows(path)
    assert [(r["patient_id"], r["size"]) for r in rows] == [("P1", "23"), ("P1", "26"), ("P2", "23"),
                                                            ("P3", "23")]
    assert rows[2]["error"] == "a b"
    with open(path, newline="") as f:
        assert next(csv.reader(f)) == columns()


def test_writer_refuses_a_file_with_other_columns(tmp_path):
    (tmp_path / "results.csv").write_text("patient_id,device\nP1,x\n")
    with pytest.raises(InputError, match="columns"):
        ResultsWriter(tmp_path / "results.csv")


def test_study_folder_must_hold_the_same_study(tmp_path):
    spec = StudySpec({"thv-balloon": [23]}, n_patients=4, bases=["phantom:small:0"])
    spec.check_folder(tmp_path)
    dataclasses.replace(spec, n_patients=10).check_folder(tmp_path)  # more patients: fine
    with pytest.raises(InputError, match="seed"):
        dataclasses.replace(spec, seed=1).check_folder(tmp_path)
    with pytest.raises(InputError, match="no size 24"):
        StudySpec({"thv-balloon": [24]}, n_patients=4)



def test_batches_are_large_and_the_same_for_one_or_two_workers_on_a_large_study():
    from hearttwin.cohort.study import MAX_BATCH, TASKS_PER_WORKER

    spec = StudySpec({"thv-balloon": [23]}, n_patients=600, bases=["phantom:small:0"])
    # a large study: full batches whatever the workers (the 0D runs cost per batch, not per patient)
    assert spec.batch_for(600, 1) == spec.batch_for(600, 2) == MAX_BATCH >= 24
    # a small one: still TASKS_PER_WORKER tasks per worker, so a lost worker delays little
    b = spec.batch_for(40, 2)
    assert -(-40 // b) >= TASKS_PER_WORKER * 2 and b < MAX_BATCH
    assert spec.batch_for(3, 2) == 1
    assert dataclasses.replace(spec, batch_size=5).batch_for(600, 2) == 5


def test_batches_split_evenly_per_base_and_fill_the_last_round():
    from hearttwin.cohort.runner import split_batches

    todo = sample_patients(200, seed=1, bases=["a", "b", "c"])
    per_base = {k: sum(p.base == k for p in todo) for k in "abc"}
    plain = split_batches(todo, list("abc"), 25)
    assert len(plain) == sum(-(-n // 25) for n in per_base.values())
    for workers in (1, 2, 3):
        chunks = split_batches(todo, list("abc"), 25, workers)
        assert sorted(p.patient_id for c in chunks for p in c) == sorted(p.patient_id for p in todo)
        assert all(len({p.base for p in c}) == 1 and 12.5 <= len(c) <= 25 for c in chunks)
        assert len(chunks) % workers == 0
        for k, n in per_base.items():  # even: a base's batches differ by at most one patient
            sizes = [len(c) for c in chunks if c[0].base == k]
            assert sum(sizes) == n and max(sizes) - min(sizes) <= 1
    # batches cannot shrink below half the size: the round stays short
    assert len(split_batches(todo[:3], list("abc"), 25, 2)) == len({p.base for p in todo[:3]})
    tiny = split_batches(todo[:5], list("abc"), 1, 2)
    assert all(len(c) == 1 for c in tiny) and len(tiny) == 5

def test_success_and_risk_tables():
    rows = [dict(_row("P1", "23"), overall="pass", is_recommended="1", recommended_size="23"),
            dict(_row("P2", "23"), overall="fail", is_recommended="1", recommended_size="23",
                 verdict_max_gap_mm="fail"),
            dict(_row("P3", "23"), overall="caution", is_recommended="0", recommended_size="26"),
            dict(_row("P4", "23"), status="error", overall="", is_recommended="", recommended_size="")]
    (t,) = success_table(rows)
    assert (t["plans"], t["ran"], t["errors"], t["pass"], t["caution"], t["fail"]) == (4, 3, 1, 1, 1, 1)
    assert t["success_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert t["success_rate_at_chart_size"] == 0.5
    risk = at_risk(rows)
    assert [(r["patient_id"], r["failed_rules"]) for r in risk] == [("P2", "max_gap_mm")]

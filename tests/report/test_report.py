"""Plan report: the same sections in HTML and PDF, real renders, verdict colours, anonymisation."""

import os

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")

import base64  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hearttwin.core.errors import InputError  # noqa: E402
from hearttwin.report import build_report, to_html, write_report  # noqa: E402
from hearttwin.report.content import STATUS_TINTS, Figure, Paragraph, Table  # noqa: E402
from hearttwin.report.sections_case import fmt, fmt_range  # noqa: E402

IDS = {"patient_name": "QUIXOTE^ZEBEDIAH", "patient_id": "MRN-ZX-93817", "birth_date": "19471213",
       "accession_number": "ACC-55Q7", "study_date": "20240302", "case_label": "Teaching case 4"}
SECRETS = ["QUIXOTE", "ZEBEDIAH", "MRN-ZX-93817", "19471213", "1947-12-13", "ACC-55Q7", "20240302",
           "2024-03-02"]
SECTIONS = ["identity", "series", "segmentation", "measurements", "device", "fit", "haemodynamics",
            "views", "verdicts", "context", "provenance"]
SMALL = (240, 180)


@pytest.fixture(scope="module")
def case():
    from hearttwin.core.anatomy import measure_all
    from hearttwin.core.devices.plan import plan_static
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams
    from hearttwin.core.simulation import CirculationParams, before_after

    p = generate_phantom(PhantomParams.sample(2, "small")).phases[0]
    m = measure_all(p.labels, p.image)
    plan = plan_static(p.labels, device_id="thv-balloon", measurements=m)
    sim = before_after(CirculationParams(), loops=True, valve="aortic", eoa_mm2=170.0, paravalvular_gap_mm2=6.0)
    history = [{"name": "segment", "params": {"source": "/data/QUIXOTE_ZEBEDIAH/ct"},
                "time_utc": "2024-03-02T09:00:00+00:00"}]
    common = dict(labels=p.labels, plan=plan, measurements=m, identifiers=IDS, simulation=sim,
                  series={"description": "Cardiac CTA", "modality": "CT", "synthetic": True},
                  history=history, render_size=SMALL)
    from hearttwin.core.mesh import surfaces_from_labels

    common["surfaces"] = surfaces_from_labels(p.labels)
    named = build_report(**common)
    anon = build_report(**common, anonymise=True)
    return dict(common, named=named, anon=anon)


def _pdf_text(data: bytes) -> tuple[str, object]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages), reader


def test_sections_and_values(case):
    r = case["named"]
    assert [s.key for s in r.sections] == SECTIONS
    texts = "\n".join(r.texts())
    ann = case["measurements"]["annulus"]
    assert fmt(ann["area_mm2"]) in texts and fmt_range(ann["area_mm2_range"]) in texts
    assert case["plan"]["sizing"]["reason"] in texts
    verdict_table = next(b for b in r.section("verdicts").blocks if isinstance(b, Table))
    assert verdict_table.status == [v["status"] for v in case["plan"]["verdicts"]]
    assert [row[2] for row in verdict_table.rows] == [v["status"].upper() for v in case["plan"]["verdicts"]]
    assert r.overall == case["plan"]["overall"]
    # the haemodynamic change table shows the simulation's numbers
    change = case["simulation"]["change"]["mean_gradient_mmhg"]
    table = next(b for b in r.section("haemodynamics").blocks if isinstance(b, Table))
    row = next(row for row in table.rows if row[0] == "Mean gradient")
    assert row[1:3] == [fmt(change[0], 2), fmt(change[1], 2)]


def test_renders_are_real_images(case):
    from matplotlib.image import imread

    renders = case["named"].figures("render")
    assert len(renders) == 3
    for fig in renders:
        img = np.rint(imread(io.BytesIO(fig.png), format="png")[:, :, :3] * 255).astype(int)
        assert img.shape == (SMALL[1], SMALL[0], 3)
        background = np.all(img == 255, axis=-1)
        assert background[0].mean() > 0.2 or background[-1].mean() > 0.2  # white border is background
        assert 0.05 < (~background).mean() < 0.98  # something drawn, not a blank frame
        assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50  # shaded surfaces, not a flat fill
    plots = case["named"].figures("plot")
    assert any("pressure-volume" in f.caption for f in plots)


def test_html_is_self_contained_with_verdict_colours(case, tmp_path):
    path = write_report(case["named"], tmp_path / "plan.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(?!data:|#)', html)  # no external resource
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == len(case["named"].figures())
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    for status in {v["status"] for v in case["plan"]["verdicts"]}:
        assert f'<tr class="{status}" style="background:{STATUS_TINTS[status]}"' in html
    for s in case["named"].sections:
        assert f"<h2>{s.title}</h2>" in html
    assert "QUIXOTE, ZEBEDIAH" in html and "MRN-ZX-93817" in html


def test_pdf_has_the_same_sections(case, tmp_path):
    path = write_report(case["named"], tmp_path / "plan.pdf")
    text, reader = _pdf_text(path.read_bytes())
    flat = re.sub(r"\s+", " ", text)
    for s in case["named"].sections:
        assert s.title in flat
    assert f"Overall verdict: {case['plan']['overall'].upper()}" in flat
    assert case["plan"]["sizing"]["reason"][:40] in flat
    assert sum(len(p.images) for p in reader.pages) == len(case["named"].figures())
    assert "MRN-ZX-93817" in flat and "QUIXOTE" in flat


@pytest.mark.parametrize("suffix", [".html", ".pdf"])
def test_anonymised_file_has_no_identifier(case, tmp_path, suffix):
    path = write_report(case["anon"], tmp_path / f"anon{suffix}")
    raw = path.read_bytes()
    text = raw.decode("utf-8") if suffix == ".html" else _pdf_text(raw)[0]
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), secret
        assert secret.encode() not in raw, secret
    assert "Teaching case 4" in text  # the case label stays


def test_pv_loops_only_when_simulated(case):
    r = build_report(labels=case["labels"], plan=case["plan"], measurements=case["measurements"],
                     surfaces=case["surfaces"], render_size=SMALL)
    blocks = r.section("haemodynamics").blocks
    assert not any(isinstance(b, Figure) for b in blocks)
    assert any(isinstance(b, Paragraph) and "not shown" in b.text for b in blocks)
    assert "not a DICOM series" in to_html(r)


def test_report_needs_a_plan(case):
    with pytest.raises(InputError, match="plan"):
        build_report(labels=case["labels"], plan={}, render_size=SMALL)
    with pytest.raises(InputError, match=r"\.pdf or \.html"):
        write_report(case["named"], "plan.docx")

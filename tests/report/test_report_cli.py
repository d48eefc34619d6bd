"""``hearttwin report``: PDF/HTML from a DICOM series, anonymised variant, bad input."""

import os

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")

import io  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402

from hearttwin import cli  # noqa: E402
from hearttwin.report import read_identifiers  # noqa: E402

NAME, PID = "VANTERPOOL^OSWIN", "PID-Q-20417"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import SimpleITK as sitk

    from hearttwin.core.imaging.dicom_write import new_study, write_ct_series
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    d = tmp_path_factory.mktemp("report")
    p = generate_phantom(PhantomParams.sample(2, "small")).phases[0]
    write_ct_series(p.image, d / "ct", study=new_study(NAME, PID, date="20240611"))
    sitk.WriteImage(p.labels.to_sitk(), str(d / "labels.nrrd"))
    return d / "ct", d / "labels.nrrd"


def _run(capsys, *args):
    code = cli.main(["report", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_named_html_and_anonymised_pdf(files, tmp_path, capsys):
    from pypdf import PdfReader

    ct, labels = files
    assert read_identifiers(ct)["patient_id"] == PID  # the input does carry the identifiers
    out = tmp_path / "plan.html"
    code, stdout, _ = _run(capsys, ct, "--labels", labels, "--device", "thv-balloon", "--static",
                           "-o", out, "-q")
    assert code == 0 and "Overall" in stdout
    html = out.read_text(encoding="utf-8")
    assert "VANTERPOOL, OSWIN" in html and PID in html and "2024-06-11" in html
    assert html.count('src="data:image/png;base64,') == 4  # 3 renders + fit by level (no simulation)

    pdf = tmp_path / "anon.pdf"
    code, stdout, _ = _run(capsys, ct, "--labels", labels, "--device", "thv-balloon", "--size", "29",
                           "--phases", "6",
                           "-o", pdf, "--anonymise", "--case-label", "Case 7", "--json", "-q")
    assert code == 0
    res = json.loads(stdout)
    assert res["output"] == str(pdf) and res["format"] == "pdf" and res["anonymised"] is True
    assert res["renders"] == 3 and res["device"]["size"] == 29 and res["overall"] in ("pass", "caution", "fail")
    raw = pdf.read_bytes()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(raw)).pages)
    assert "Case 7" in text and "Device and sizing" in text
    # the plan over the cycle: per-phase table, metric-vs-phase plot and PV loops before/after
    assert "Phase 0.83" in text and "pressure-volume loop before and with the device" in text
    for secret in ("VANTERPOOL", "OSWIN", PID, "20240611", "2024-06-11"):
        assert secret not in text and secret.encode() not in raw


@pytest.mark.parametrize("extra, message", [
    ([], "-o"),
    (["-o", "plan.docx"], ".pdf or .html"),
    (["-o", "nowhere/plan.pdf"], "folder"),
])
def test_bad_output_fails_fast(files, capsys, extra, message):
    ct, labels = files
    code, _, err = _run(capsys, ct, "--labels", labels, "--device", "thv-balloon", "-q", *extra)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0]


def test_report_from_a_saved_case_and_missing_device(files, tmp_path, capsys):
    ct, labels = files
    case = tmp_path / "case.htwin"
    assert cli.main(["plan", str(ct), "--labels", str(labels), "--device", "thv-balloon", "--size",
                     "26", "--static", "-q", "-o", str(case)]) == 0
    capsys.readouterr()
    out = tmp_path / "from_case.html"
    code, stdout, _ = _run(capsys, case, "-o", out, "--json", "-q")
    assert code == 0
    res = json.loads(stdout)
    assert res["device"]["id"] == "thv-balloon" and res["device"]["size"] == 26
    html = out.read_text(encoding="utf-8")
    assert PID in html  # identifiers read from the case's DICOM folder
    code, _, _ = _run(capsys, case, "-o", tmp_path / "anon.html", "--anonymise", "-q")
    assert code == 0 and PID not in (tmp_path / "anon.html").read_text(encoding="utf-8")
    code, _, err = _run(capsys, tmp_path / "missing.htwin", "-o", tmp_path / "r.pdf", "-q")
    assert code == 2 and "does not exist" in err
    code, _, err = _run(capsys, ct, "--labels", labels, "-o", tmp_path / "r.pdf", "-q")
    assert code == 2 and "--device" in err

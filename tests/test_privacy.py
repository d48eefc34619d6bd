"""A patient's name never leaves the case: not in logs, autosave names or anonymised exports.

The whole workflow runs on a phantom CT whose PatientName and PatientID are
marker strings, stored in a folder named after the patient (as PACS exports
often are): open -> segment -> measure -> place a device -> save the case ->
autosave -> anonymised DICOM export -> anonymised plan reports (HTML and
PDF), with logging at DEBUG to a file. Then every log file, every recovery
file name, every exported file (names and bytes), the anonymised reports and
the command line's output are searched for the markers.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from hearttwin.cli import main
from hearttwin.core import autosave, casefile, logs
from hearttwin.core.anatomy import measure_all
from hearttwin.core.case import case_from_image
from hearttwin.core.devices.plan import plan_static
from hearttwin.core.imaging.anonymise import anonymise_files
from hearttwin.core.imaging.dicom_write import new_study, write_ct_series
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.segmentation.auto import segment_heart

NAME = "Qzvxkplor^Privamarka"
PATIENT_ID = "PMRK-44170923"
MARKERS = ["Qzvxkplor", "Privamarka", PATIENT_ID]


def _leaks(data: bytes) -> list[str]:
    low = data.lower()
    return [m for m in MARKERS if m.lower().encode() in low]


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy")
    data_dir = root / "data"
    mp = pytest.MonkeyPatch()
    mp.setenv("HEARTTWIN_DATA_DIR", str(data_dir))
    log_path = logs.setup_logging(level=logging.DEBUG)
    try:
        phase = generate_phantom(PhantomParams.sample(3, "small")).phases[0]
        ct = root / "Qzvxkplor_Privamarka_PMRK-44170923"  # folder named after the patient
        files = write_ct_series(phase.image, ct, rng=np.random.default_rng(0),
                                study=new_study(patient_name=NAME, patient_id=PATIENT_ID))
        assert _leaks(files[0].read_bytes()) == MARKERS  # the markers really are in the input

        case = case_from_image(ct)
        seg = segment_heart(case.image)
        case.set_labels(seg.labels, step="segment_auto", params={"method": seg.method})
        case.set_measurements(measure_all(case.labels, case.image))
        plan = plan_static(case.labels, device_id="thv-balloon", size=26,
                           measurements=case.measurements)
        case.place_device("thv-balloon", 26, plan["pose_lps"])
        case.set_simulation(results={"plan": plan}, step="plan")
        case_path = casefile.save(case, root / "plan.htwin")
        case.touch()
        recovery = autosave.Autosaver(case, interval_s=0).save()
        reopened = casefile.load(case_path)
        export = anonymise_files(files, root / "export")
        reports = {}
        for name in ("anonymised.html", "anonymised.pdf", "named.html"):
            args = ["report", str(case_path), "-o", str(root / name), "-q"]
            assert main(args + ([] if name.startswith("named") else ["--anonymise"])) == 0
            reports[name] = root / name
        yield {"reports": reports, "root": root, "log": log_path, "recovery": recovery, "export": export, "case": reopened,
               "ct": ct, "seg": seg, "data_dir": data_dir}
    finally:
        logs.shutdown_logging()
        mp.undo()


def test_workflow_ran_for_real(workflow):
    case = workflow["case"]
    assert set(np.unique(case.labels.array)) >= {1, 2, 3, 4, 5, 6, 7}
    assert 200 < case.measurements["annulus"]["area_mm2"] < 1000
    assert case.devices[0]["id"] == "thv-balloon"
    assert workflow["log"].parent == workflow["data_dir"] / "logs"
    assert workflow["recovery"].parent == workflow["data_dir"] / "recovery"
    assert len(workflow["export"].files) > 10


def test_no_marker_in_logs(workflow):
    logging.getLogger("hearttwin.privacy").debug("log check")  # the file exists and is written
    texts = [p.read_bytes() for p in workflow["log"].parent.iterdir()]
    assert texts and any(b"Autosaved case" in t for t in texts)
    for data in texts:
        assert _leaks(data) == []


def test_no_marker_in_autosave_file_names(workflow):
    for p in (workflow["data_dir"] / "recovery").rglob("*"):
        assert _leaks(p.name.encode()) == []


def test_no_marker_in_the_anonymised_export(workflow):
    export = workflow["export"]
    for p in export.files:
        assert _leaks(p.name.encode()) == [] and _leaks(p.read_bytes()) == [], p.name
    assert _leaks(json.dumps(export.warnings).encode()) == []


def test_no_marker_in_the_anonymised_reports(workflow):
    from pypdf import PdfReader

    reports = workflow["reports"]
    named = reports["named.html"].read_bytes()
    assert PATIENT_ID.encode() in named  # the named report does carry the identifiers
    assert _leaks(reports["anonymised.html"].read_bytes()) == []
    pdf = reports["anonymised.pdf"]
    text = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "Device and sizing" in text  # real text was extracted
    assert _leaks(text.encode()) == [] and _leaks(pdf.read_bytes()) == []


def test_no_marker_in_manifest_messages_or_warnings(workflow):
    manifest = casefile.read_manifest(workflow["root"] / "plan.htwin")
    texts = [json.dumps(manifest), json.dumps(workflow["case"].warnings), json.dumps(workflow["seg"].warnings),
             json.dumps(workflow["case"].history.to_list())]
    for text in texts:
        assert _leaks(text.encode()) == []


def test_no_marker_in_command_line_output(workflow, capsys):
    assert main(["info", str(workflow["ct"]), "--json", "-q"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["series"][0]["modality"] == "CT"
    assert _leaks((out.out + out.err).encode()) == []
    assert main(["info", str(Path(workflow["ct"]) / "missing"), "-q"]) == 2  # an error message, too
    out = capsys.readouterr()
    assert _leaks((out.out + out.err).encode()) == []

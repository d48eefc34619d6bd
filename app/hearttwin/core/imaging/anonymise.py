"""De-identified copies of DICOM series (PS3.15 Annex E, Basic Profile).

What is done to every file, recursively through sequences:

- patient name and ID become a pseudonym (same input patient -> same
  pseudonym within one export key), other patient attributes are removed;
- every person name (PN), date, time and date-time is removed, except the
  type 2 study/content dates and times which are kept empty;
- institution, device, physician, operator and free-text attributes of the
  Basic Profile table are removed;
- every UID that is not a registered DICOM UID (SOP classes, transfer
  syntaxes, coding schemes keep theirs) is replaced by a ``2.25.`` UID derived
  from it with a keyed hash, so relationships (same study, same frame of
  reference, references between objects) survive and cannot be reversed
  without the key;
- private tags, overlays and curves are removed;
- Patient Identity Removed = YES, De-identification Method and its code
  sequence (DCM 113100, Basic Application Confidentiality Profile) are set.

Output file names are sequential (``IM00001.dcm``); nothing identifying goes
into names, logs or messages. Pixel data are copied unchanged: when a file
says its pixels carry burned-in annotation, a warning says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID_dictionary

from ..errors import NotDicomError
from ..jobs import Progress, report

DEIDENTIFICATION_METHOD = "PS3.15 Basic Application Confidentiality Profile (HeartTwin)"

#: attributes emptied (type 2: must be present) rather than removed
EMPTY = {
    "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID", "StudyDate",
    "StudyTime", "ContentDate", "ContentTime", "ReferringPhysicianName",
}

#: attributes removed (Basic Profile 'X' actions that the VR rules below miss)
REMOVE = {
    # patient
    "PatientAge", "PatientSize", "PatientWeight", "PatientAddress", "OtherPatientIDs",
    "OtherPatientIDsSequence", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
    "MilitaryRank", "BranchOfService", "MedicalRecordLocator", "EthnicGroup", "Occupation",
    "AdditionalPatientHistory", "PatientComments", "PatientTelephoneNumbers",
    "PatientReligiousPreference", "CountryOfResidence", "RegionOfResidence", "MedicalAlerts",
    "Allergies", "SmokingStatus", "PregnancyStatus", "PatientState", "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence", "PatientInsurancePlanCodeSequence",
    "PatientPrimaryLanguageCodeSequence", "PatientSexNeutered", "ResponsiblePerson",
    "ResponsiblePersonRole", "ResponsibleOrganization", "PatientBirthTime", "InsurancePlanIdentification",
    "ReferencedPatientSequence", "ReferencedPatientPhotoSequence", "PatientTransportArrangements",
    # visit, request, procedure step
    "AdmissionID", "AdmittingDiagnosesDescription", "AdmittingDiagnosesCodeSequence",
    "CurrentPatientLocation", "PatientInstitutionResidence", "VisitComments",
    "RequestAttributesSequence", "RequestedProcedureID", "RequestedProcedureDescription",
    "RequestedProcedureComments", "ScheduledProcedureStepID", "ScheduledProcedureStepDescription",
    "PerformedProcedureStepID", "PerformedProcedureStepDescription", "PerformedLocation",
    "ReferencedPerformedProcedureStepSequence", "ReferencedStudySequence", "FillerOrderNumberImagingServiceRequest",
    "PlacerOrderNumberImagingServiceRequest", "ReasonForStudy", "RequestingService",
    "ImagingServiceRequestComments", "OrderEntererLocation", "OrderCallbackPhoneNumber",
    "ConsultingPhysicianIdentificationSequence", "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers", "ReferringPhysicianIdentificationSequence",
    "PhysiciansOfRecordIdentificationSequence", "PerformingPhysicianIdentificationSequence",
    "PhysiciansReadingStudyIdentificationSequence", "OperatorIdentificationSequence",
    # institution and equipment
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "InstitutionCodeSequence", "StationName", "DeviceSerialNumber", "DetectorID", "PlateID",
    "GantryID", "CassetteID", "GeneratorID", "DeviceDescription", "ModifiedAttributesSequence",
    "OriginalAttributesSequence", "SourceApplicationEntityTitle", "DigitalSignaturesSequence",
    # descriptions and free text that often carry names
    "StudyDescription", "SeriesDescription", "ProtocolName", "ImageComments", "FrameComments",
    "DerivationDescription", "TextComments", "TextString", "AcquisitionComments",
    "ContrastBolusAgent", "DischargeDiagnosisDescription", "IdentifyingComments",
    "InterpretationText", "ResultsComments", "ServiceEpisodeDescription", "TopicSubject",
    "TopicAuthor", "TopicKeywords", "Authorization", "ContentCreatorName",
    "ContentCreatorIdentificationCodeSequence", "VerifyingObserverSequence",
    "ParticipantSequence", "PersonIdentificationCodeSequence", "PersonAddress",
    "PersonTelephoneNumbers", "InstanceCreatorUID", "AcquisitionDeviceProcessingDescription",
    "StorageMediaFileSetID",
}

_KEEP_EMPTY_DATES = {"StudyDate", "StudyTime", "ContentDate", "ContentTime"}


@dataclass
class AnonymisationResult:
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Anonymiser:
    """Applies the profile; one instance = one export key (consistent remapping)."""

    def __init__(self, key: bytes | None = None, pseudonym: str = "ANONYMOUS") -> None:
        self.key = key if key is not None else secrets.token_bytes(32)
        self.pseudonym = pseudonym

    # -- identifiers ---------------------------------------------------------
    def _digest(self, text: str) -> bytes:
        return hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).digest()

    def new_uid(self, uid: str) -> str:
        """Keyed, deterministic replacement UID (``2.25.<128-bit integer>``)."""
        return "2.25." + str(int.from_bytes(self._digest("uid:" + uid)[:16], "big"))

    def patient_id(self, original: str) -> str:
        return "HT" + self._digest("pid:" + original).hex()[:12].upper()

    # -- datasets ------------------------------------------------------------
    def apply(self, ds: Dataset) -> Dataset:
        original_pid = str(ds.get("PatientID", ""))
        self._clean(ds)
        ds.PatientName = self.pseudonym
        ds.PatientID = self.patient_id(original_pid)
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = DEIDENTIFICATION_METHOD
        code = Dataset()
        code.CodeValue = "113100"
        code.CodingSchemeDesignator = "DCM"
        code.CodeMeaning = "Basic Application Confidentiality Profile"
        ds.DeidentificationMethodCodeSequence = [code]
        ds.LongitudinalTemporalInformationModified = "REMOVED"
        if getattr(ds, "file_meta", None) is not None:
            meta = ds.file_meta
            if "SOPInstanceUID" in ds:
                meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            if "SourceApplicationEntityTitle" in meta:
                del meta.SourceApplicationEntityTitle
        return ds

    def _clean(self, ds: Dataset) -> None:
        for elem in list(ds):
            tag = elem.tag
            keyword = elem.keyword
            if tag.is_private or 0x5000 <= tag.group <= 0x50FF or 0x6000 <= tag.group <= 0x60FF:
                del ds[tag]  # private data, curves, overlays
                continue
            if keyword in EMPTY:
                elem.value = None
            elif keyword in REMOVE:
                del ds[tag]
            elif elem.VR == "PN":
                del ds[tag]
            elif elem.VR in ("DA", "DT", "TM"):
                if keyword in _KEEP_EMPTY_DATES:
                    elem.value = None
                else:
                    del ds[tag]
            elif elem.VR == "UI":
                elem.value = self._remap_uid_value(elem.value)
            elif elem.VR == "SQ":
                for item in elem.value:
                    self._clean(item)

    def _remap_uid_value(self, value):
        if value is None or value == "":
            return value
        if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
            return [self._remap_one(v) for v in value]
        return self._remap_one(value)

    def _remap_one(self, uid: str) -> str:
        uid = str(uid)
        return uid if uid in UID_dictionary else self.new_uid(uid)


def anonymise_files(
    files: list[Path],
    out_dir: Path,
    *,
    anonymiser: Anonymiser | None = None,
    progress: Progress | None = None,
) -> AnonymisationResult:
    """Write de-identified copies of ``files`` into ``out_dir`` (created if needed).

    Raises
    ------
    NotDicomError
        A file is not DICOM; nothing identifying is put in the message beyond
        its position in the list.
    """
    anonymiser = anonymiser or Anonymiser()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = AnonymisationResult()
    burned_in = 0
    for i, path in enumerate(files):
        report(progress, i, len(files), "Anonymising")
        try:
            ds = pydicom.dcmread(path)
        except (InvalidDicomError, EOFError) as err:
            raise NotDicomError(f"File {i + 1} of {len(files)} is not a readable DICOM file ({type(err).__name__}).") from None
        if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
            burned_in += 1
        anonymiser.apply(ds)
        target = out_dir / f"IM{i + 1:05d}.dcm"
        tmp = target.with_suffix(".part")
        ds.save_as(tmp, enforce_file_format=True)
        os.replace(tmp, target)
        result.files.append(target)
    report(progress, len(files), len(files), "Anonymised")
    if burned_in:
        result.warnings.append(
            f"{burned_in} image(s) declare burned-in annotation: text in the pixels may identify "
            "the patient and was not removed; check the images before sharing."
        )
    return result

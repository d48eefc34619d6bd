"""Typed exceptions whose messages a surgeon or imaging technician can act on.

Every message names what is wrong and, where possible, where (series number,
slice position in mm, file name without patient data) and what to do about it.
Messages never contain patient-identifying values (names, IDs, birth dates).
"""

from __future__ import annotations


class HeartTwinError(Exception):
    """Base class for errors shown to users. ``str(err)`` is the user message."""

    #: exit status used by the command line (DESIGN.md: 2 for bad input)
    exit_code = 1


class InputError(HeartTwinError):
    """The user's input (file, folder, option) cannot be used as given."""

    exit_code = 2


class NotDicomError(InputError):
    """A file is not DICOM (or not any supported volume format)."""


class NoImageDataError(InputError):
    """A folder or file holds no usable image series."""


class UnsupportedDataError(InputError):
    """The data is DICOM but of a kind HeartTwin cannot use (e.g. transfer syntax)."""


class CorruptDataError(InputError):
    """The data is damaged: truncated pixels, implausible sizes, broken headers."""


class GeometryError(InputError):
    """The slices do not form a regular, undistorted 3D volume."""


class SeriesSelectionError(InputError):
    """A requested series does not exist or is not a volume."""


class ProcessingError(HeartTwinError):
    """A computation failed for a reason other than bad input."""


class CancelledError(HeartTwinError):
    """The user cancelled a long job."""

    exit_code = 130

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


class HeartTwinWarning(UserWarning):
    """Warnings meant for the user (also collected into ``warnings`` lists)."""

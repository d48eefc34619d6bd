"""HeartTwin: plan structural heart procedures on a digital twin of the patient's heart."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("hearttwin")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

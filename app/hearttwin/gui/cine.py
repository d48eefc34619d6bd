"""Cine playback of a multi-phase series in the slice views, without touching the case.

All cardiac phases of one series are loaded once in a worker
(:func:`load_cine_phases`) and kept in memory, within a cap
(:func:`memory_cap`). Showing a phase then only swaps the canonical image
the slice views draw (``ViewState.image``): the crosshair, zoom, window/level
and label overlay stay, and the 3D view is left alone. The session's case
image changes only when the user asks to use the shown phase, through the
window's ordinary ``load_series``.
"""

from __future__ import annotations

import os
import time

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..core import jobs
from ..core.errors import InputError
from . import display

_GIB = 1024 ** 3
#: at most this many bytes of cine phases are kept in memory (HEARTTWIN_CINE_MAX_MB overrides)
MAX_CINE_BYTES = 4 * _GIB
#: and at most this share of the memory the system reports available
AVAILABLE_SHARE = 0.5
DEFAULT_FPS = 10
MAX_FPS = 30


def memory_cap() -> int:
    """Bytes the cine may hold: :data:`MAX_CINE_BYTES` (or the env override), at most half the free memory."""
    cap = MAX_CINE_BYTES
    value = os.environ.get("HEARTTWIN_CINE_MAX_MB", "").strip()
    try:
        if value and float(value) > 0:
            cap = int(float(value) * 1024 * 1024)
    except ValueError:
        pass
    try:  # psutil is optional: without it only the fixed cap applies
        import psutil

        cap = min(cap, int(psutil.virtual_memory().available * AVAILABLE_SHARE))
    except ImportError:
        pass
    return cap


def _mb(n: float) -> str:
    return f"{n / 1024 ** 2:.0f} MB" if n < _GIB else f"{n / _GIB:.1f} GB"


def check_memory(info, bytes_per_phase: int, cap: int | None = None) -> None:
    """Refuse a cine that would not fit in memory.

    Parameters
    ----------
    info : SeriesInfo
        The series (its ``phases`` and ``name`` are used).
    bytes_per_phase : int
        Size of one loaded phase.
    cap : int, optional
        Bytes allowed (default :func:`memory_cap`).

    Raises
    ------
    InputError
        All phases together exceed the cap; the message says how much and what to do.
    """
    cap = memory_cap() if cap is None else cap
    total = bytes_per_phase * info.phases
    if total > cap:
        raise InputError(
            f"{info.name} has {info.phases} phases of {_mb(bytes_per_phase)} each ({_mb(total)} in all); "
            f"the cine keeps at most {_mb(cap)} in memory. Close other programs to free memory, or "
            "choose single phases with the Phase box and Load series.")


def estimated_phase_bytes(info) -> int:
    """Bytes of one phase as the loader stores it (int16 for a typical CT)."""
    nx, ny, nz = info.size
    return int(nx) * int(ny) * int(nz) * 2


def load_cine_phases(info, progress=None) -> list:
    """Every phase of series ``info`` as a Volume, for a worker.

    Parameters
    ----------
    info : SeriesInfo
        A loadable DICOM or volume-file series of the current scan.
    progress : jobs.Progress, optional
        Receives one step per phase; cancelling raises ``CancelledError``.

    Returns
    -------
    list of Volume or None
        In phase order; None for a phase the scan found broken (the others still play).

    Raises
    ------
    InputError
        The phases do not fit under :func:`memory_cap` (checked again on the
        real size of the first phase: float32 series take twice the estimate),
        or a phase cannot be read.
    """
    from ..core.imaging import load_volume
    from ..core.errors import HeartTwinError

    out: list = []
    n = info.phases
    for p in range(n):
        jobs.report(progress, p, n, f"Loading phase {p + 1} of {n}")
        geo = info.geometries[p] if p < len(info.geometries) else None
        if isinstance(geo, HeartTwinError):
            out.append(None)  # the scan already warned about this phase
            continue
        sub = jobs.SubProgress(progress, p, p + 1, n) if progress is not None else None
        vol = load_volume(info, phase=p, progress=sub)
        if not any(v is not None for v in out):
            check_memory(info, vol.array.nbytes)
        out.append(vol)
    jobs.report(progress, n, n, "Phases loaded")
    return out


class CinePlayer(QObject):
    """Holds the phases of one series and shows them one at a time in the views.

    Signals
    -------
    loaded : the phases arrived (or were released: ``volumes`` empty)
    phase_changed(int) : another phase is shown
    playing_changed(bool) : playback started or stopped
    """

    loaded = Signal()
    phase_changed = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info = None
        self.volumes: list = []
        self.images: list = []  # canonical (z, y, x) views of the volumes (no copies)
        self.phase = 0
        self.fps = DEFAULT_FPS
        #: whether the views show a cine phase rather than the case image
        self.showing = False
        #: the time (ms) the last :meth:`show_phase` took on the GUI thread
        self.last_frame_ms = 0.0
        self._orientation = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.step)
        window.session.scan_changed.connect(self.release)
        window.session.image_changed.connect(self._on_case_image)

    # -- loading ---------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return any(v is not None for v in self.volumes)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def count(self) -> int:
        return len(self.volumes)

    def load(self, info):
        """Load every phase of ``info`` in a worker (after a memory check); returns the job or None."""
        try:
            check_memory(info, estimated_phase_bytes(info))
        except InputError as err:
            from . import error_dialog

            error_dialog.show_error(self.window, "Loading the cardiac phases", err)
            return None
        if self.window.job is None:  # free the old phases first (run_job refuses while a job runs)
            self.release()
        return self.window.run_job(f"Loading {info.phases} phases of series {info.label}", load_cine_phases,
                                   info, on_done=lambda volumes: self.set_phases(info, volumes))

    def set_phases(self, info, volumes: list) -> None:
        """Keep ``volumes`` (the phases of ``info``) and show the case's phase, or the first."""
        self.info, self.volumes = info, list(volumes)
        first = next(v for v in self.volumes if v is not None)
        self._orientation = display.Reorientation.from_direction(first.direction)
        self.images = [None if v is None else self._orientation.view(v.array) for v in self.volumes]
        self.loaded.emit()
        case_phase = self.case_phase()
        self.show_phase(case_phase if case_phase is not None else self._valid(0))

    def release(self) -> None:
        """Stop, show the case image again and free the phases."""
        self.pause()
        self.restore()
        had = bool(self.volumes)
        self.info, self.volumes, self.images, self._orientation = None, [], [], None
        if had:
            self.loaded.emit()

    def case_phase(self) -> int | None:
        """The phase of the cine's series that is the case image, if it is one."""
        vol = self.window.session.volume
        if vol is None or self.info is None or vol.meta.get("series_label") != self.info.label:
            return None
        phase = vol.meta.get("phase")
        return phase if isinstance(phase, int) and 0 <= phase < self.count else None

    def bytes_held(self) -> int:
        return sum(v.array.nbytes for v in self.volumes if v is not None)

    # -- showing ---------------------------------------------------------------------------
    def _valid(self, k: int, direction: int = 1) -> int:
        for i in range(self.count):
            j = (k + direction * i) % self.count
            if self.volumes[j] is not None:
                return j
        raise IndexError("no phase is loaded")

    def _fits_view(self, image: np.ndarray, volume) -> bool:
        st = self.window.state
        return (st.image is not None and st.volume is not None and st.image.shape == image.shape
                and st.orientation == self._orientation
                and np.allclose(st.volume.spacing, volume.spacing, atol=1e-4)
                and np.allclose(st.volume.origin, volume.origin, atol=1e-3))

    def show_phase(self, k: int) -> None:
        """Show phase ``k`` in the slice views (the crosshair and zoom stay when the grid is the same)."""
        if not self.ready:
            return
        t0 = time.perf_counter()
        k = self._valid(int(k) % self.count)
        vol, image = self.volumes[k], self.images[k]
        st = self.window.state
        if self._fits_view(image, vol):
            st.image = image  # the light path: the views redraw their planes from it
            st.data_changed.emit()
        else:  # another grid: a full switch (the crosshair recentres); keep labels on the same grid
            labels = self.window.session.labels
            st.set_volume(vol)
            if labels is not None and labels.array.shape == vol.array.shape:
                st.set_labels(labels)
        self.phase, self.showing = k, True
        self.last_frame_ms = (time.perf_counter() - t0) * 1000
        self.phase_changed.emit(k)

    def restore(self) -> None:
        """Show the case image again (if a cine phase is shown)."""
        if not self.showing:
            return
        self.showing = False
        st, session = self.window.state, self.window.session
        vol = session.volume
        if vol is None:
            st.set_volume(None)
        elif self._orientation is not None and self._fits_view(self._orientation.view(vol.array), vol):
            st.image = self._orientation.view(vol.array)
            st.data_changed.emit()
        else:
            st.set_volume(vol)
            st.set_labels(session.labels)

    def _on_case_image(self) -> None:
        # the window shows the new case image itself; the cine only stops and follows its phase
        self.pause()
        self.showing = False
        k = self.case_phase()
        if k is not None:
            self.phase = k
            self.phase_changed.emit(k)

    # -- playback --------------------------------------------------------------------------
    def set_fps(self, fps: float) -> None:
        self.fps = min(max(float(fps), 1.0), MAX_FPS)
        self._timer.setInterval(int(round(1000 / self.fps)))

    def play(self) -> None:
        """Loop through the phases at :attr:`fps` frames per second."""
        if not self.ready or self.playing:
            return
        self._timer.start(int(round(1000 / self.fps)))
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def step(self, direction: int = 1) -> None:
        """Show the next (or previous) loaded phase, looping."""
        if self.ready:
            start = self.phase if self.showing else self.phase - direction
            self.show_phase(self._valid((start + direction) % self.count, direction))

    def use_shown_phase(self):
        """Load the shown phase as the case image (``window.load_series``); returns the job."""
        if not self.ready:
            return None
        self.pause()
        return self.window.load_series(self.info, self.phase)

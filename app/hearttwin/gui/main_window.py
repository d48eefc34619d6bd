"""The main window: workflow sidebar and panels, the four views, menus and the job bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import (QApplication, QFileDialog, QListWidget, QListWidgetItem, QMainWindow, QScrollArea,
                               QSplitter, QStackedWidget, QToolBar, QVBoxLayout, QWidget)

from . import (error_dialog, header_dialog, oblique_view, process_jobs, ruler_tools, settings, volume_presets,
               workers)
from .deferred import LOAD_VOLUME, SCAN, SURFACE_ARRAYS
from .actions import build_menus, set_step_actions
from .case_files import CaseFiles
from .job_bar import JobBar
from .panels import STEPS
from .session import Session
from .view_grid import LAYOUTS, ViewGrid
from .view_state import ViewState

#: the key of the placed device among the 3D view's surfaces, and its colour
DEVICE_KEY = 255
DEVICE_COLOUR = (225, 225, 232)
HEART_OPACITY_WITH_DEVICE = 0.3


class MainWindow(QMainWindow):
    """HeartTwin's window. ``session`` is the case; ``state`` what the views show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("HeartTwin")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.session = Session(self)
        self.state = ViewState(self)
        self.state.colours = {s.label: s.colour for s in self.session.structures()}
        self.views = ViewGrid(self.state)
        self.job: workers.Job | None = None
        self._had_heart = False
        self._close_confirmed = False
        self.job_bar = JobBar()
        self.statusBar().addPermanentWidget(self.job_bar)

        self.steps = QListWidget()
        self.steps.setObjectName("workflowSteps")
        self.steps.setToolTip("Workflow: each step's tools appear below (Ctrl+1 to Ctrl+6)")
        self.panels = QStackedWidget()
        self.panel_by_key = {}
        for n, panel_class in enumerate(STEPS):
            panel = panel_class(self)
            self.panel_by_key[panel.key] = panel
            self.panels.addWidget(panel)
            item = QListWidgetItem(f"{n + 1}. {panel.title}")
            item.setToolTip(panel.hint or getattr(panel, "coming", ""))
            self.steps.addItem(item)
        self.steps.setMaximumHeight(self.steps.sizeHintForRow(0) * (len(STEPS) + 1))
        self.steps.currentRowChanged.connect(self._on_step)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 4, 4, 4)
        side_layout.addWidget(self.steps)
        scroll = QScrollArea()  # a crowded step scrolls rather than squeezing its tables
        scroll.setObjectName("panelScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.panels)
        scroll.setMinimumWidth(self.panels.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        side_layout.addWidget(scroll, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(side)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([380, 900])
        self.setCentralWidget(self.splitter)

        self.case_files = CaseFiles(self)
        #: ask "save changes?" when closing with a dirty case (tests switch it off)
        self.confirm_close = True
        build_menus(self)
        for module in (oblique_view, ruler_tools, header_dialog, volume_presets):
            module.install(self)  # their View/File menu entries, after the standard ones
        self.findChild(QToolBar, "viewToolBar").insertAction(self.actions_by_name["preset_separator"],
                                                            self.actions_by_name["layout_oblique"])
        QApplication.instance().aboutToQuit.connect(self.views.view3d.release)
        self.session.image_changed.connect(self._on_image)
        self.session.labels_changed.connect(self._on_labels)
        self.session.surfaces_changed.connect(self._on_surfaces)
        self.session.device_changed.connect(self._on_surfaces)
        self.session.labels_changed.connect(self.update_title)
        self.session.measurements_changed.connect(self.update_title)
        self.session.device_changed.connect(self.update_title)
        self.session.device_changed.connect(self._update_steps)
        self.session.simulation_changed.connect(self.update_title)
        self.steps.setCurrentRow(0)
        self.resize(1280, 820)
        self._restore_state()
        self._update_steps()

    # -- workflow --------------------------------------------------------------------------
    def panel(self, key: str):
        return self.panel_by_key[key]

    def show_step(self, key: str) -> None:
        self.steps.setCurrentRow(list(self.panel_by_key).index(key))

    def _on_step(self, row: int) -> None:
        if row >= 0:
            previous = self.panels.currentWidget()
            if previous is not None and previous is not self.panels.widget(row):
                getattr(previous, "deactivated", lambda: None)()
            self.panels.setCurrentIndex(row)
            set_step_actions(self, self.panels.currentWidget().key)
            self.panels.currentWidget().activated()

    def _update_steps(self) -> None:
        for row, panel in enumerate(self.panel_by_key.values()):
            item = self.steps.item(row)
            flags = item.flags()
            enabled = panel.available()
            item.setFlags(flags | Qt.ItemFlag.ItemIsEnabled if enabled else flags & ~Qt.ItemFlag.ItemIsEnabled)

    # -- jobs ------------------------------------------------------------------------------
    def run_job(self, title: str, fn, *args, on_done=None, on_error=None, isolate: bool = False,
                **kwargs) -> workers.Job | None:
        """Run ``fn(*args, progress=..., **kwargs)`` in a worker; ``on_done(result)`` on success.

        ``on_error(exception)`` may handle a failure (return True); otherwise it is shown.

        ``isolate=True`` runs it in the child process (see :class:`workers.Job`).

        One job at a time: while one runs, a new request is refused with a status message.
        """
        if self.job is not None:
            self.statusBar().showMessage(f"Please wait: {self.job.title} is still running.", 4000)
            return None
        job = workers.Job(title, fn, *args, isolate=isolate, **kwargs)
        self.job = job

        def finished(result) -> None:
            self._clear_job(job)
            if on_done is not None:
                on_done(result)

        def failed(err) -> None:
            self._clear_job(job)
            if on_error is None or not on_error(err):
                error_dialog.show_error(self, title, err)

        def cancelled() -> None:
            self._clear_job(job)
            self.statusBar().showMessage(f"{title}: cancelled.", 5000)

        job.signals.finished.connect(finished)
        job.signals.failed.connect(failed)
        job.signals.cancelled.connect(cancelled)
        job.signals.ended.connect(lambda: self._clear_job(job))
        self.job_bar.watch(job)
        return job.start()

    def _clear_job(self, job) -> None:
        # the next job may start from this one's finished handler, before its 'ended'
        if self.job is job:
            self.job = None

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job_bar.cancel()

    # -- opening ---------------------------------------------------------------------------
    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a DICOM folder", self._last_dir())
        if path:
            self.open_path(path)

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an image file", self._last_dir(),
            "Images (*.dcm *.nrrd *.nhdr *.nii *.nii.gz *.mha *.mhd);;HeartTwin case (*.htwin);;All files (*)")
        if path:
            self.open_path(path)

    def _last_dir(self) -> str:
        recent = settings.recent_paths()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def open_path(self, path: str) -> workers.Job | None:
        """Scan ``path`` in the background, then list its series (and load the only one).

        A ``.htwin`` case file is opened as a case instead.
        """
        path = str(path)
        if path.lower().endswith(".htwin"):
            return self.case_files.open(path) if self.case_files.confirm_discard() else None
        self.show_step("data")
        return self.run_job("Scanning", SCAN, path, on_done=lambda result: self._on_scanned(path, result))

    def _on_scanned(self, path: str, result) -> None:
        self.session.set_scan(path, result)
        settings.add_recent(path)
        self.refresh_recent_menu()
        usable = [s for s in result.series if s.loadable and not s.is_localizer]
        if len(usable) == 1:
            self.load_series(usable[0])
        else:
            self.statusBar().showMessage(f"{len(result.series)} series found: choose one and press Load.", 8000)

    def load_series(self, info, phase: int = 0) -> workers.Job | None:
        return self.run_job(f"Loading series {info.label}", LOAD_VOLUME, info, phase=phase,
                            on_done=lambda volume: self._on_loaded(volume, info, phase))

    def _on_loaded(self, volume, info, phase: int) -> None:
        self.session.set_image(volume, info, phase)
        process_jobs.warm_up()  # the segmentation process is ready when the user asks
        self.statusBar().showMessage(f"Loaded series {info.label}.", 5000)

    def _on_image(self) -> None:
        self.state.set_volume(self.session.volume)
        self.views.view3d.set_surfaces({}, self.state.colours)
        self._update_steps()

    def _on_labels(self) -> None:
        self.state.set_labels(self.session.labels)
        self._update_steps()

    # -- surfaces --------------------------------------------------------------------------
    def update_surfaces(self) -> workers.Job | None:
        labels = self.session.labels
        if labels is None:
            return None
        return self.run_job("Building 3D surfaces", SURFACE_ARRAYS, labels, isolate=True,
                            on_done=self._on_surface_arrays)

    def _on_surface_arrays(self, arrays: dict) -> None:
        from .surfaces import polydata_from_arrays

        self.session.set_surfaces({label: polydata_from_arrays(a) for label, a in arrays.items()})

    def _on_surfaces(self) -> None:
        from .device_handle import FIT_COLOUR_MAP

        surfaces, colours, opacities, maps = dict(self.session.surfaces), dict(self.state.colours), {}, {}
        device = self.session.device_poly
        if device is not None:  # the heart see-through around the device
            opacities = {label: HEART_OPACITY_WITH_DEVICE for label in surfaces}
            surfaces[DEVICE_KEY], colours[DEVICE_KEY] = device, DEVICE_COLOUR
            if device.GetPointData().GetArray(FIT_COLOUR_MAP.array) is not None:  # its fit, vertex by vertex
                maps[DEVICE_KEY] = FIT_COLOUR_MAP
        heart_arrived = bool(self.session.surfaces) and not self._had_heart
        self._had_heart = bool(self.session.surfaces)
        self.views.view3d.set_surfaces(surfaces, colours, opacities, maps)
        if heart_arrived:  # frame the heart, not only the device shown before it
            self.views.view3d.reset_camera()

    # -- cases -----------------------------------------------------------------------------
    def update_title(self) -> None:
        case = self.session.case
        name = case.path.name if case is not None and case.path is not None else (
            "untitled case" if case is not None else "")
        dirty = "*" if case is not None and case.dirty else ""
        self.setWindowTitle(f"{name}{dirty} - HeartTwin" if name else "HeartTwin")

    def after_case_opened(self) -> None:
        """A whole case arrived (opened or recovered): rebuild what derives from it."""
        self.update_title()
        if self.session.case is not None and self.session.case.devices:
            self.panel("device").restore()
        elif self.session.labels is not None:
            self.update_surfaces()
        self.show_step("device" if self.session.case and self.session.case.devices else "segment")

    # -- images ----------------------------------------------------------------------------
    def save_view_image(self, path: str, which: str | None = None) -> str:
        """Save a view (default: the enlarged/focused one; "all" for the grid) as PNG/JPEG."""
        if which == "all":
            widget = self.views
        elif which == "oblique":
            widget = self.views.oblique
        else:
            widget = self.views.views[which] if which else self.views.active_view()
        if not widget.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        return str(path)

    def save_view_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save view as image", str(Path.home() / "view.png"),
                                              "PNG image (*.png);;JPEG image (*.jpg)")
        if path:
            try:
                self.save_view_image(path)
            except OSError as err:
                error_dialog.show_error(self, "Saving the view", err)

    # -- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if _dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = _dropped_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)

    # -- state -----------------------------------------------------------------------------
    def refresh_recent_menu(self) -> None:
        from .actions import fill_recent_menu

        fill_recent_menu(self)

    def _restore_state(self) -> None:
        s = settings.settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        sizes = s.value("window/splitter")
        if isinstance(sizes, QByteArray):
            self.splitter.restoreState(sizes)
        link = s.value("views/link_zoom", True)
        self.actions_by_name["link_zoom"].setChecked(link not in (False, "false", "0", 0))
        layout = s.value("window/layout", "four")
        if layout in LAYOUTS:
            self.views.set_layout(layout)

    def save_state(self) -> None:
        s = settings.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/layout", self.views.current)
        s.setValue("views/link_zoom", self.views.link_zoom)
        s.sync()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.confirm_close and not self._close_confirmed:
            if not self.case_files.confirm_discard():
                event.ignore()
                return
            self._close_confirmed = True  # app.run closes the window once more after the loop
        self.case_files.close()
        self.save_state()
        if self.job is not None:
            self.job.cancel()
        workers.wait_all(30000)
        self.views.view3d.release()
        super().closeEvent(event)


def _dropped_path(mime) -> str | None:
    if mime is None or not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).exists():
            return url.toLocalFile()
    return None

"""Four views (axial, coronal, sagittal, 3D) in a 2x2 grid, or one of them large.

A fifth, the double-oblique view (:class:`~.oblique_view.ObliqueView`), is
not part of the four: the "oblique" layout shows it alone, filling the grid.

With ``link_zoom`` on (the default), zooming one slice view zooms the other two
by the same factor, so the three planes keep the same scale.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from .oblique_view import ObliqueView
from .slice_view import SliceView
from .view3d import View3D
from .view_state import ViewState

#: layout names: "four" or the name of the one enlarged view
LAYOUTS = ("four", "axial", "coronal", "sagittal", "3d", "oblique")


class ViewGrid(QWidget):
    """The central view area. Double-click a view to enlarge it, again to return to four."""

    layout_changed = Signal(str)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewGrid")
        self.views = {plane: SliceView(state, plane) for plane in ("axial", "coronal", "sagittal")}
        self.views["3d"] = View3D(state)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        for (row, col), name in zip([(0, 0), (0, 1), (1, 0), (1, 1)], ("axial", "3d", "coronal", "sagittal")):
            grid.addWidget(self.views[name], row, col)
        #: the double-oblique view, outside ``views`` (the four); shown by the "oblique" layout
        self.oblique = ObliqueView(state)
        self.oblique.setVisible(False)
        grid.addWidget(self.oblique, 0, 0, 2, 2)
        for view in [*self.views.values(), self.oblique]:
            view.maximise_requested.connect(self.toggle)
        self.current = "four"
        #: zoom the slice views together
        self.link_zoom = True
        for plane in ("axial", "coronal", "sagittal"):
            self.views[plane].zoom_changed.connect(lambda factor, p=plane: self._zoomed(p, factor))

    def set_link_zoom(self, on: bool) -> None:
        """Link (or unlink) the slice views' zoom; linking matches the others to the axial view."""
        self.link_zoom = bool(on)
        if self.link_zoom:
            self._zoomed("axial", self.views["axial"].zoom)

    def _zoomed(self, plane: str, factor: float) -> None:
        if self.link_zoom:
            for name in ("axial", "coronal", "sagittal"):
                if name != plane:
                    self.views[name].set_zoom(factor)

    @property
    def view3d(self) -> View3D:
        return self.views["3d"]

    def set_layout(self, name: str) -> None:
        """Show all four views ("four") or only the named one (also "oblique")."""
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}")
        for key, view in self.views.items():
            view.setVisible(name == "four" or key == name)
        self.oblique.setVisible(name == "oblique")
        self.current = name
        self.layout_changed.emit(name)

    def toggle(self, name: str) -> None:
        self.set_layout("four" if self.current == name else name)

    def active_view(self) -> QWidget:
        """The enlarged view, or the one with keyboard focus, or the axial view."""
        if self.current == "oblique":
            return self.oblique
        if self.current != "four":
            return self.views[self.current]
        for view in self.views.values():
            if view.hasFocus():
                return view
        return self.views["axial"]

"""Menus, toolbar and keyboard shortcuts of the main window.

Step actions (e.g. the device move keys) are window-wide shortcuts enabled
only while their workflow step is shown (:func:`set_step_actions`), so they
work whichever view has the keyboard focus and never steal keys (arrows,
PageUp/PageDown scroll the slices) on the other steps.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMessageBox

from .. import __version__
from . import display, settings
from .panels.device_panel import KEYS as DEVICE_KEYS

#: view layouts in the View menu: (layout, menu text, shortcut)
LAYOUT_ACTIONS = (("four", "&Four views", "Alt+0"), ("axial", "&Axial", "Alt+1"),
                  ("coronal", "&Coronal", "Alt+2"), ("sagittal", "&Sagittal", "Alt+3"),
                  ("3d", "&3D", "Alt+4"))
#: window/level preset shortcuts, in display.PRESETS order
PRESET_KEYS = ("F5", "F6", "F7", "F8")


def _action(window, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    act = QAction(text, window)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(tip)
    act.triggered.connect(lambda _checked=False: slot())
    return act


def build_menus(window) -> None:
    """File, Edit, View, Workflow and Help menus, plus the view toolbar."""
    window.actions_by_name = acts = {}
    mb = window.menuBar()

    file_menu = mb.addMenu("&File")
    cf = window.case_files
    acts["new_case"] = _action(window, "&New case", cf.new_case, QKeySequence.StandardKey.New,
                               "Close the current case and start again")
    acts["open_case"] = _action(window, "Open &case…", cf.open_dialog, "Ctrl+Alt+O",
                                "Open a HeartTwin case file (.htwin)")
    acts["save_case"] = _action(window, "&Save case", cf.save, QKeySequence.StandardKey.Save,
                                "Save the case (.htwin)")
    acts["save_case_as"] = _action(window, "Save case &as…", cf.save_as, "Ctrl+Alt+S",
                                   "Save the case under a new name")
    for name in ("new_case", "open_case", "save_case", "save_case_as"):
        file_menu.addAction(acts[name])
    file_menu.addSeparator()
    acts["open_folder"] = _action(window, "Open &folder…", window.open_folder_dialog, QKeySequence.StandardKey.Open,
                                  "Open a DICOM folder")
    acts["open_file"] = _action(window, "Open f&ile…", window.open_file_dialog, "Ctrl+Shift+O",
                                "Open a DICOM, NRRD, NIfTI or MHA file")
    file_menu.addAction(acts["open_folder"])
    file_menu.addAction(acts["open_file"])
    window.recent_menu = file_menu.addMenu("Open &recent")
    fill_recent_menu(window)
    file_menu.addSeparator()
    acts["save_view"] = _action(window, "Save view as &image…", window.save_view_dialog, "Ctrl+Shift+S",
                                "Save the enlarged (or focused) view as a PNG or JPEG image")
    file_menu.addAction(acts["save_view"])
    file_menu.addSeparator()
    acts["quit"] = _action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit, "Quit HeartTwin")
    file_menu.addAction(acts["quit"])

    edit_menu = mb.addMenu("&Edit")
    undo = window.session.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcuts(QKeySequence.StandardKey.Undo)
    redo = window.session.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcuts(QKeySequence.StandardKey.Redo)  # Ctrl+Y and Ctrl+Shift+Z on Linux
    acts["undo"], acts["redo"] = undo, redo
    edit_menu.addAction(undo)
    edit_menu.addAction(redo)
    edit_menu.addSeparator()
    seg = window.panel_by_key["segment"]
    for name, key in (("navigate", "N"), ("paint", "B"), ("erase", "E"), ("seed", "S")):
        acts[f"tool_{name}"] = a = _action(window, f"{name.capitalize()} tool", partial(seg.set_tool, name), key)
        edit_menu.addAction(a)
    acts["toggle_overlay"] = _action(window, "Show/hide label overlay", seg.overlay_check.toggle, "O")
    edit_menu.addAction(acts["toggle_overlay"])
    edit_menu.addSeparator()
    acts["cancel_job"] = _action(window, "&Cancel running job", window.cancel_job, "Esc",
                                 "Stop the job shown in the status bar")
    edit_menu.addAction(acts["cancel_job"])

    view_menu = mb.addMenu("&View")
    for key, text, shortcut in LAYOUT_ACTIONS:
        acts[f"layout_{key}"] = a = _action(window, text, partial(window.views.set_layout, key), shortcut,
                                            f"Show {'all four views' if key == 'four' else 'the ' + key + ' view large'}")
        view_menu.addAction(a)
    view_menu.addSeparator()
    presets = view_menu.addMenu("&Window/level")
    for (name, (w, lvl)), key in zip(display.PRESETS.items(), PRESET_KEYS):
        acts[f"preset_{name}"] = a = _action(window, f"{name} (W {w:.0f} / L {lvl:.0f})",
                                             partial(window.state.apply_preset, name), key)
        presets.addAction(a)
    acts["reset_3d"] = _action(window, "Reset 3D camera", window.views.view3d.reset_camera, None,
                               "Anterior view of the heart")
    view_menu.addAction(acts["reset_3d"])
    acts["link_zoom"] = a = QAction("&Link slice zoom", window)
    a.setCheckable(True)
    a.setChecked(window.views.link_zoom)
    a.setStatusTip("Zoom the three slice views together (Ctrl+wheel on any of them)")
    a.toggled.connect(window.views.set_link_zoom)
    view_menu.addAction(a)

    steps_menu = mb.addMenu("&Workflow")
    for n, key in enumerate(window.panel_by_key):
        panel = window.panel_by_key[key]
        acts[f"step_{key}"] = a = _action(window, panel.title, partial(window.show_step, key), f"Ctrl+{n + 1}")
        steps_menu.addAction(a)
    acts["auto_segment"] = _action(window, "Segment automatically", seg.run_auto, "Ctrl+Shift+A")
    steps_menu.addSeparator()
    steps_menu.addAction(acts["auto_segment"])
    device_menu = steps_menu.addMenu("&Move device")
    device = window.panel_by_key["device"]
    for key, (what, amount, text) in DEVICE_KEYS.items():
        name = f"device_{what}_{'plus' if amount > 0 else 'minus'}"
        acts[name] = a = _action(window, text, partial(device.key_action, key), QKeySequence(key),
                                 "Adjust the placed device (Device step)")
        a.setData("device")  # the step whose keys these are
        window.addAction(a)  # a window-wide shortcut, also with the menu closed
        device_menu.addAction(a)
    simulate = window.panel_by_key["simulate"]
    acts["play_cycle"] = a = _action(window, "&Play/pause the beating heart", simulate.play_button.toggle,
                                     "Space", "Play or pause the beating heart (Simulate step)")
    a.setData("simulate")
    window.addAction(a)
    steps_menu.addAction(a)
    set_step_actions(window, None)

    help_menu = mb.addMenu("&Help")
    help_menu.addAction(_action(window, "&About HeartTwin", partial(_about, window)))

    bar = window.addToolBar("View")
    bar.setObjectName("viewToolBar")
    for key, _text, _shortcut in LAYOUT_ACTIONS:
        bar.addAction(acts[f"layout_{key}"])
    acts["preset_separator"] = bar.addSeparator()  # other layouts (the double-oblique view) go before it
    bar.addWidget(QLabel(" Window/level: "))
    window.preset_combo = combo = QComboBox()
    combo.setToolTip("Window/level preset (F5-F8); right-drag on a slice to adjust")
    combo.addItems(list(display.PRESETS))
    combo.textActivated.connect(window.state.apply_preset)
    bar.addWidget(combo)


def set_step_actions(window, step: str | None) -> None:
    """Enable the actions of workflow step ``step`` (their ``data()``), disable the other steps'."""
    for act in getattr(window, "actions_by_name", {}).values():
        if act.data():
            act.setEnabled(act.data() == step)


def fill_recent_menu(window) -> None:
    menu = window.recent_menu
    menu.clear()
    paths = settings.recent_paths()
    for path in paths:
        act = menu.addAction(path)
        act.triggered.connect(lambda _checked=False, p=path: window.open_path(p))
    if paths:
        menu.addSeparator()
        menu.addAction("Clear list").triggered.connect(lambda: (settings.clear_recent(), fill_recent_menu(window)))
    menu.setEnabled(bool(paths))


def _about(window) -> None:
    QMessageBox.about(window, "About HeartTwin",
                      f"HeartTwin {__version__}\nPlanning structural-heart procedures on the patient's "
                      "own cardiac CT. Not a medical device.")

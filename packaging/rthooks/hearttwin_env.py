"""PyInstaller runtime hook: environment the frozen HeartTwin needs before anything loads.

On Linux without a display (a server, SSH, CI, ``hearttwin --self-test`` in a
terminal) VTK must render offscreen through OSMesa and Qt must use its
offscreen platform; both are read once, when VTK rendering and Qt load, so
they are set here, before the application's first import. A value the user
set is kept.
"""

import os
import sys

if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

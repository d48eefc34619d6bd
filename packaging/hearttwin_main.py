"""Entry script of the frozen HeartTwin (PyInstaller runs this as ``__main__``)."""

import multiprocessing
import sys

from hearttwin.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # worker processes of a frozen app re-enter here
    sys.exit(main())

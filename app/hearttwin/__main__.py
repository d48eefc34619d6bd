"""``hearttwin``: no sub-command opens the GUI; a sub-command runs the CLI.

The CLI path must not import Qt, so the GUI package is imported only when no
sub-command is given. ``hearttwin --self-test`` runs the pipeline on the
bundled sample case (:mod:`hearttwin.selftest`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _start_log()
    if argv[:1] == ["--self-test"]:
        from .selftest import main as self_test

        return self_test(argv[1:])
    from .cli import SUBCOMMANDS

    wants_cli = bool(argv) and (argv[0] in SUBCOMMANDS or argv[0].startswith("-"))
    if wants_cli:
        from .cli import main as cli_main

        return cli_main(argv)
    return _open_gui(argv)


def _start_log() -> None:
    """The rotating log file in the user's data folder (no patient data is logged)."""
    from .core.logs import setup_logging

    try:
        setup_logging()
    except OSError:  # read-only home: run without a log file
        pass


def _open_gui(argv: list[str]) -> int:
    try:
        from .gui.app import run as run_gui  # noqa: PLC0415 (Qt only on this path)
    except ModuleNotFoundError as err:
        if not err.name or not err.name.startswith("hearttwin.gui"):
            raise
        # The desktop window is not built yet: show what the CLI knows instead.
        from .cli import main as cli_main

        sys.stderr.write("The HeartTwin desktop window is not available in this build; "
                         "showing the series summary instead.\n")
        return cli_main(["info", *argv[:1]]) if argv else cli_main(["--help"])
    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())

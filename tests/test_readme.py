"""The README's quick start is exactly two commands, and CI runs the second."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_start_has_two_working_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    for cmd in commands:
        script = cmd.split()[1]
        assert (ROOT / script).is_file(), script
    assert commands[1].split()[1] in (ROOT / ".ci" / "run").read_text()

"""README: exactly two fresh-machine commands, CI runs the second, the table matches the code."""

import re
from pathlib import Path

from jaxhin import CAPABILITIES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.strip().splitlines()
            if line and not line.startswith("#")]


def test_exactly_two_commands_and_ci_runs_the_second():
    commands = _commands()
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^exec {re.escape(commands[1])}$", ci, flags=re.M), ci


def test_capability_table_matches_the_code():
    section = README.split("## Capabilities", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \|$", section, flags=re.M)
    assert [(s, p, st) for s, p, st in rows] == [
        (c.system, c.paper, c.status) for c in CAPABILITIES]

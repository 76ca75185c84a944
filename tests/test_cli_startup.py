"""``baton --help`` starts instantly: it lists every command without importing SQLAlchemy,
SQLModel, genai-prices, detect-secrets, pandas or streamlit (each command imports what it
needs when it runs)."""

from __future__ import annotations

import os
import subprocess
import sys

from baton.cli import COMMANDS
from tests.conftest import REPO

HEAVY = {"sqlalchemy", "sqlmodel", "genai_prices", "detect_secrets", "pandas", "streamlit"}


def test_help_lists_every_command_and_imports_nothing_heavy() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "baton", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    # -X importtime writes one line per module imported: "import time: self | cumulative | name".
    imported = {
        line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    }
    assert "baton.cli" in imported
    heavy = sorted(name for name in imported if name.split(".")[0] in HEAVY)
    assert not heavy, f"baton --help imported {heavy}"
    listed = {
        line.split()[0] for line in done.stdout.splitlines() if line.startswith("    ") and line.split()
    }
    assert set(COMMANDS) <= listed, f"not in baton --help: {sorted(set(COMMANDS) - listed)}"

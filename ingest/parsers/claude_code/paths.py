"""Where Claude Code keeps its transcripts: ``~/.claude/projects`` (and ``~/.config/claude/projects``,
used by some installs), or ``$CLAUDE_CONFIG_DIR/projects`` for each folder of that comma list
(the override Claude Code itself honours)."""

from __future__ import annotations

import os
from pathlib import Path


def default_folders() -> list[Path]:
    """The transcript folders of this machine's Claude Code (existing or not)."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    if configured:
        roots = [Path(part.strip()).expanduser() for part in configured.split(",") if part.strip()]
    else:
        roots = [Path("~/.claude").expanduser(), Path("~/.config/claude").expanduser()]
    return [root / "projects" for root in roots]

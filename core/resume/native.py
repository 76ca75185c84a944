"""What a native (source-framework) export produces: one document, where it goes relative
to the output folder, and how to resume from it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.resume.redact import RedactionReport


def render_command(template: str, out_dir: Path) -> str:
    """Fill a command template with the folder the export was written to: ``{dir}`` quoted
    for a shell, ``{dir_py}`` quoted for Python."""
    return template.replace("{dir_py}", repr(str(out_dir))).replace("{dir}", shlex.quote(str(out_dir)))


@dataclass
class NativeExport:
    format: str  # harness | loopengt
    document: dict[str, Any]
    relative_parts: tuple[str, ...]  # sanitized path parts below the output folder
    document_id: str  # the harness key / the loopengt checkpoint id
    redaction: RedactionReport
    notes: list[str] = field(default_factory=list)
    command_template: str = ""

    def command(self, out_dir: Path) -> str:
        return render_command(self.command_template, out_dir)

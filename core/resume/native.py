"""What a native (source-framework) export produces: one document, where it goes relative
to the output folder, and how to resume from it."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.resume.redact import RedactionReport


def literal(text: str) -> str:
    """``text`` for a command template: braces doubled, so it is never read as a placeholder."""
    return text.replace("{", "{{").replace("}", "}}")


def render_command(template: str, out_dir: Path) -> str:
    """Fill a command template with the folder the export was written to: ``{dir}`` quoted
    for a shell, ``{dir_py}`` quoted for Python."""
    fills = {"dir_py": repr(str(out_dir)), "dir": shlex.quote(str(out_dir))}
    # One pass, so a value taken from an input file cannot smuggle in a placeholder; keys in a
    # template escape their braces as {{ and }}.
    return re.sub(
        r"\{\{|\}\}|\{(dir_py|dir)\}", lambda m: fills.get(m.group(1) or "", m.group(0)[0]), template
    )


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

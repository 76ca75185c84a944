"""What one export produced: the document, where it goes, what was redacted or trimmed, and
how to resume from it once written."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from core.resume.native import render_command
from core.resume.outbox import default_outbox
from core.resume.redact import RedactionReport
from core.resume.trim import TrimReport


@dataclass
class ExportResult:
    format: str  # acf | prompt | harness | loopengt
    document: dict[str, Any]
    document_id: str
    relative_parts: tuple[str, ...]
    redaction: RedactionReport
    trim: TrimReport | None = None
    failure_class: str | None = None
    notes: list[str] = field(default_factory=list)
    command_template: str = ""
    path: Path | None = None  # set once written
    folder: Path | None = None
    text: str | None = None  # a text export (the prompt brief): what is written, instead of the JSON
    retarget: Callable[[str], tuple[str, str]] | None = None  # text and command for another file name

    @property
    def file_name(self) -> str:
        return self.relative_parts[-1]

    @property
    def mime(self) -> str:
        return "text/markdown" if self.text is not None else "application/json"

    def to_bytes(self) -> bytes:
        if self.text is not None:
            return self.text.encode()
        return orjson.dumps(self.document, default=str, option=orjson.OPT_INDENT_2) + b"\n"

    def command(self, folder: Path | None = None) -> str:
        """How to resume from the written file (native formats), start agents on it (prompt;
        one command a line), or check it (acf)."""
        folder = folder or self.folder or default_outbox() / self.format
        if self.command_template:
            return render_command(self.command_template, folder)
        path = self.path or folder.joinpath(*self.relative_parts)
        return (
            'python -c "import agent_checkpoint, sys; r = agent_checkpoint.parse(open(sys.argv[1]).read()); '
            f'print(r.ok, r.errors)" {shlex.quote(str(path))}'
        )

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "document_id": self.document_id,
            "path": str(self.path) if self.path else None,
            "bytes": len(self.to_bytes()),
            "failure_class": self.failure_class,
            "redaction": self.redaction.as_dict(),
            "trim": self.trim.as_dict() if self.trim else None,
            "notes": self.notes,
            "command": self.command(),
        }

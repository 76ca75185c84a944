"""What every framework module provides (``PARTS``, typed by ``Framework``), and the type of
a native resume form. Below the framework modules and the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from core.failure_text import FailureRule
from core.resume.mappers.base import Mapped
from core.resume.source import ResumeSource

if TYPE_CHECKING:
    from core.resume.native import NativeExport
    from core.resume.options import ExportOptions

PARTS = ("NAME", "failure_rule", "usable_for_resume", "map_checkpoint", "native_form", "input_includes_cache")


@dataclass(frozen=True)
class NativeForm:
    """A framework's own continuation format, as its module names it."""

    format: str  # the export format's name (``--format``), one of ``resume.options.FORMATS``
    build: Callable[[ResumeSource, ExportOptions | None], NativeExport]
    # When the framework resumes by a key that is the file's name (harness), the command
    # for a key: writing to a chosen file renames the key after it.
    command_for_key: Callable[[str], str] | None = None


class Framework(Protocol):
    """A framework module; ``None`` says a part is absent."""

    NAME: str
    failure_rule: FailureRule | None  # its structured signals -> a class, before the text rules
    map_checkpoint: Callable[[ResumeSource], Mapped]  # a checkpoint in the resume document's terms
    native_form: NativeForm | None  # its own continuation format, if Baton writes one

    def usable_for_resume(self, checkpoint: dict[str, Any]) -> bool:
        """Whether a checkpoint that is not failed holds what a resume needs."""
        ...

    def input_includes_cache(
        self, model: str | None, cache_read_tokens: int | None, cache_write_tokens: int | None
    ) -> bool:
        """Whether its input token count already contains cache reads/writes."""
        ...

"""Where exports go, and the guarantee that nothing read from an input file can steer a
write outside that folder.

Every path part built from an id goes through :func:`safe_name`; the final path is
resolved (following any symlink already there) and must stay inside the resolved folder.
Writes are atomic (temporary file + rename), so a reader never sees half a document.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from core.errors import UserError

MAX_NAME = 120
UNSAFE = re.compile(r"[^A-Za-z0-9._:-]+")


class UnsafePath(UserError):
    """A computed export path that would leave its folder."""


def default_outbox() -> Path:
    """``$BATON_OUTBOX``, else ``~/.baton/outbox``."""
    return Path(os.environ.get("BATON_OUTBOX") or Path.home() / ".baton" / "outbox").expanduser()


def safe_name(value: str, max_length: int = MAX_NAME) -> str:
    """A single file-name part from any id: letters, digits and ``. _ : -`` only, no leading
    dot or dash, at most ``max_length`` characters. Changed or shortened names get a short
    hash of the original so distinct ids stay distinct."""
    original = str(value)
    name = UNSAFE.sub("_", original.replace("\x00", "")).strip("._-:") or "unnamed"
    if name != original or len(name) > max_length:
        digest = hashlib.blake2b(original.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
        name = f"{name[: max_length - 9]}-{digest}"
    return name


def safe_path(folder: Path, *parts: str) -> Path:
    """``folder/parts...`` after checking each part is a plain name and the result stays in
    ``folder`` once resolved."""
    base = folder.expanduser().resolve()
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\x00" in part:
            raise UnsafePath(f"refusing export path part {part!r}: not a plain file name")
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base) or target == base:
        raise UnsafePath(f"refusing to write {target}: it is outside the export folder {base}")
    return target


def write_bytes(folder: Path, parts: tuple[str, ...], data: bytes) -> Path:
    """Write ``data`` to ``folder/parts...`` atomically; return the path written."""
    target = safe_path(folder, *parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(folder.expanduser().resolve()):
        raise UnsafePath(f"refusing to write {target}: its folder resolves outside {folder}")
    handle, temp = tempfile.mkstemp(prefix=".baton-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target

"""LangGraph's typed blobs (``type`` + ``checkpoint``/``value`` columns) as plain data.

Never unpickled, never imported: msgpack is decoded with an extension hook that turns each of
LangGraph's ext types into a plain dict naming the class (``{"__lg__": "module.Class", "v":
payload}``), so nothing named inside a blob is ever looked up. A ``pickle`` or encrypted
(``msgpack+aes``) blob, or one that does not decode, becomes ``Opaque``: the row still loads,
with a note saying why its value is missing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import ormsgpack

_OPTION = ormsgpack.OPT_NON_STR_KEYS  # channel maps can have non-string keys


@dataclass(frozen=True, slots=True)
class Opaque:
    """A blob Baton does not decode (pickle, encrypted, broken)."""

    type: str
    size: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"__undecodable__": self.type, "bytes": self.size, "reason": self.reason}


def _ext(code: int, data: bytes, hook: Any = None) -> Any:
    inner = ormsgpack.unpackb(data, ext_hook=hook or _ext, option=_OPTION)
    if code == 7:  # _DeltaSnapshot (langgraph-checkpoint 4.x): the value itself
        return {"__delta_snapshot__": inner}
    if code == 6 and isinstance(inner, list) and len(inner) >= 2:  # numpy: keep dtype and shape
        return {"__ndarray__": {"dtype": inner[0], "shape": inner[1]}}
    if not isinstance(inner, list) or len(inner) < 3:
        return {"__ext__": code, "v": inner}
    module, name, payload = inner[0], inner[1], inner[2]
    if (module, name) == ("uuid", "UUID") and isinstance(payload, str | bytes):
        try:
            return str(uuid.UUID(hex=payload) if isinstance(payload, str) else uuid.UUID(bytes=payload))
        except ValueError:
            pass
    return {"__lg__": f"{module}.{name}", "v": payload}


def loads_msgpack(data: bytes, hook: Any = None) -> Any:
    """msgpack with LangGraph's ext types, as plain data (raises ValueError-like errors)."""
    return ormsgpack.unpackb(data, ext_hook=hook or _ext, option=_OPTION)


class Decoder:
    """Decodes the blobs of one thread. A message (ext 5, a pydantic model) met again is
    decoded once and the value shared: every checkpoint's channel values repeat the messages
    of the one before, and a write holds those of the next. The values are read-only data
    (documents are stored as they are), so sharing them changes nothing but the work."""

    def __init__(self) -> None:
        self._seen: dict[bytes, Any] = {}

    def _hook(self, code: int, data: bytes) -> Any:
        if code != 5:
            return _ext(code, data, self._hook)
        value = self._seen.get(data)
        if value is None:
            value = self._seen[data] = _ext(code, data, self._hook)
        return value

    def decode(self, type_: str | None, blob: bytes | None) -> Any:
        return decode(type_, blob, self._hook)


def decode(type_: str | None, blob: bytes | None, hook: Any = None) -> Any:
    """One typed blob as plain data, or ``Opaque``."""
    if blob is None:
        return None
    if isinstance(blob, str):
        blob = blob.encode()
    kind = type_ or ""
    try:
        if kind == "msgpack":
            return loads_msgpack(blob, hook)
        if kind == "null" or (not blob and kind == "empty"):
            return None
        if kind == "json":
            return orjson.loads(blob)
        if kind in ("bytes", "bytearray"):
            return {"__bytes__": len(blob)}
    except (ormsgpack.MsgpackDecodeError, orjson.JSONDecodeError, ValueError, TypeError) as exc:
        return Opaque(kind, len(blob), f"cannot decode this {kind} value: {exc}")
    if kind == "pickle":
        return Opaque(kind, len(blob), "a Python pickle: never unpickled")
    if "+" in kind:
        return Opaque(kind, len(blob), f"encrypted ({kind.split('+', 1)[1]}): no key")
    return Opaque(kind, len(blob), f"unknown value type {kind!r}")


def loads_metadata(blob: bytes | str | None) -> Any:
    """The ``metadata`` column: JSON bytes in every version."""
    if blob is None:
        return {}
    try:
        return orjson.loads(blob)
    except orjson.JSONDecodeError:
        try:
            return loads_msgpack(blob if isinstance(blob, bytes) else blob.encode())
        except Exception as exc:  # noqa: BLE001 - any failure is a note, not a failed file
            return Opaque("metadata", len(blob), f"metadata is neither JSON nor msgpack: {exc}")


def uuid6_time_ns(checkpoint_id: str) -> int | None:
    """Unix ns from a UUIDv6 checkpoint id (for a checkpoint whose blob cannot be read)."""
    h = checkpoint_id.replace("-", "")
    try:
        t = int(h[0:8], 16) << 28 | int(h[8:12], 16) << 12 | int(h[13:16], 16)
    except ValueError:
        return None
    ns = (t - 0x01B21DD213814000) * 100
    return ns if ns > 0 else None

"""Stable ids derived from what the sources call things, so re-ingest never renumbers."""

from __future__ import annotations

import hashlib
import uuid


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def run_id(framework: str, native_id: str) -> str:
    return _digest("run", framework, native_id)[:16]


def checkpoint_id(run: str, native_id: str) -> str:
    return _digest("checkpoint", run, native_id)[:16]


def event_id(run: str, native_id: str | None, source_path: str, seq: int) -> str:
    if native_id:
        return _digest("event", run, native_id)[:20]
    return _digest("event-at", source_path, str(seq))[:20]


def uuid4_shaped(*parts: str) -> str:
    """A UUIDv4-shaped id that is the same every time for the same parts (ACF requires
    UUIDv4 for task and parent ids; repeated exports of one run must agree)."""
    raw = bytearray(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).digest())
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))

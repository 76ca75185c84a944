"""Timestamps: everything Baton stores is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: object) -> datetime | None:
    """Read an ISO-8601 string or epoch seconds as an aware UTC datetime.

    A string without an offset is read as UTC: agent frameworks that omit the offset
    (loopengt's ``datetime.utcnow()``, hand-written ACF documents) mean UTC in practice.
    Returns ``None`` for anything that is not a timestamp.
    """
    if value is None or isinstance(value, bool):
        return None
    if type(value) is str:  # the usual case first: an ISO string as the source wrote it
        try:
            parsed = datetime.fromisoformat(value)  # Python 3.11 reads "Z" itself
        except ValueError:
            return _parse_text(value)
        zone = parsed.tzinfo
        if zone is UTC:
            return parsed
        return parsed.replace(tzinfo=UTC) if zone is None else parsed.astimezone(UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return _parse_text(value) if isinstance(value, str) else None


def _parse_text(value: str) -> datetime | None:
    """A string the plain ISO parser refused: surrounding blanks, a "Z" elsewhere."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)

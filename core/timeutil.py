"""Timestamps: everything Baton stores is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


class OutOfRange(datetime):
    """A timestamp its source wrote that no datetime can hold once converted to UTC
    (``9999-12-31T23:59:59-12:00``, epoch 1e18): the nearest end of the range, carrying
    the source's own text in ``source``.

    ``parse_timestamp`` returns one instead of raising, so that a parser reading it goes
    on (comparisons, ``min`` and ``max`` work) and the file loads; before the store,
    ``core.record_values`` sets every record field holding one to None with a warning
    naming the field. Its text form is the source's text, so a copy written into a JSON
    attribute and read back is the same mark again."""

    __slots__ = ("source",)

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return getattr(self, "source", None) or super().isoformat(sep, timespec)

    def __str__(self) -> str:
        return self.isoformat()


def _out_of_range(source: object, high: bool) -> OutOfRange:
    edge = datetime.max if high else datetime.min
    mark = OutOfRange.combine(edge.date(), edge.time(), tzinfo=UTC)
    mark.source = str(source)
    return mark


def parse_timestamp(value: object) -> datetime | None:
    """Read an ISO-8601 string or epoch seconds as an aware UTC datetime.

    A string without an offset is read as UTC: agent frameworks that omit the offset
    (loopengt's ``datetime.utcnow()``, hand-written ACF documents) mean UTC in practice.
    Returns ``None`` for anything that is not a timestamp, and an ``OutOfRange`` mark for
    a timestamp beyond the range of a datetime in UTC; never raises.
    """
    if value is None or isinstance(value, bool):
        return None
    if type(value) is str:  # the usual case first: an ISO string as the source wrote it
        try:
            parsed = datetime.fromisoformat(value)  # Python 3.11 reads "Z" itself
        except ValueError:
            return _parse_text(value)
        return _to_utc(parsed, value)
    if isinstance(value, OutOfRange):
        return value
    if isinstance(value, datetime):
        return _to_utc(value, value)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            if value != value:  # NaN is no time at all
                return None
            return _out_of_range(value, value > 0)
    return _parse_text(value) if isinstance(value, str) else None


def _to_utc(parsed: datetime, source: object) -> datetime:
    zone = parsed.tzinfo
    if zone is UTC:
        return parsed
    if zone is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # within a day of either end, pushed past it by the offset
        return _out_of_range(source, parsed.year > 1)


def _parse_text(value: str) -> datetime | None:
    """A string the plain ISO parser refused: surrounding blanks, a "Z" elsewhere."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return _to_utc(parsed, value)


def utcnow() -> datetime:
    return datetime.now(UTC)

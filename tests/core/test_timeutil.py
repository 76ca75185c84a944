"""Source timestamps become aware UTC datetimes; one without an offset is read as UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.timeutil import parse_timestamp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-01T00:00:05Z", datetime(2026, 11, 1, 0, 0, 5, tzinfo=UTC)),
        ("2026-11-01T00:00:05+00:00", datetime(2026, 11, 1, 0, 0, 5, tzinfo=UTC)),
        ("2026-11-01T02:00:05+02:00", datetime(2026, 11, 1, 0, 0, 5, tzinfo=UTC)),
        # no offset, as loopengt writes utcnow(): read as UTC
        ("2026-11-01T00:00:05.250", datetime(2026, 11, 1, 0, 0, 5, 250000, tzinfo=UTC)),
        ("  2026-11-01T00:00:05Z\n", datetime(2026, 11, 1, 0, 0, 5, tzinfo=UTC)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        (1_761_955_205, datetime(2025, 11, 1, 0, 0, 5, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        ("   ", None),
        (True, None),
        (None, None),
    ],
)
def test_timestamps_are_read_as_aware_utc(value: object, expected: datetime | None) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC  # what the store's fast path for UTC text relies on

"""A JSON Lines file whose last line has no newline yet (a log being written) is decoded once:
its complete lines are what decoding the text up to the last newline gives, and an ingest
of it loads those lines and waits for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.db import make_engine
from core.store import Store
from ingest.content import complete_lines, decode, decode_lines
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

COMPLETE = [
    b'{"n": 1}\n{"n": 2}\n',
    b'\xef\xbb\xbf{"n": 1}\n\n{"n": 2}\r\n',  # a byte order mark, a blank line, CRLF
    b'{"n": 1}\nnot json\n{"n": 3}\n',  # a bad line among good ones
    b'{"n": 1}\n{"n": 2, "cut\n{"n": 3}\n',  # a line cut short by a writer that died
    b'{"n": 1}\n{"n": 2, "cut{"n": 2.5}\n{"n": 3}\n',  # ...and continued after a restart
]
UNFINISHED = [b'{"n": 9', b'{"n": 9}', b"[1, 2", b"garbage", b"{}"]  # no newline yet


@pytest.mark.parametrize("complete", COMPLETE)
@pytest.mark.parametrize("unfinished", UNFINISHED)
def test_the_lines_before_an_unfinished_last_line_are_those_of_the_complete_part(
    complete: bytes, unfinished: bytes
) -> None:
    data = complete + unfinished
    whole = decode("log.jsonl", data)
    assert whole.kind == "jsonl"
    expected = decode_lines("log.jsonl", complete)
    got = complete_lines(whole)
    assert [(line.number, line.value) for line in got.lines] == [
        (line.number, line.value) for line in expected.lines
    ]
    assert got.bad_lines == expected.bad_lines
    assert got.newlines == expected.newlines


def test_a_session_being_written_loads_its_complete_lines_and_not_the_unfinished_one(tmp_path: Path) -> None:
    sample = next((SAMPLE_RUNS / "claude_code" / "projects").rglob("*0001.jsonl"))
    lines = sample.read_bytes().splitlines(keepends=True)
    live = tmp_path / "projects" / "-home-dev-webapp" / sample.name
    live.parent.mkdir(parents=True)
    live.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # half its last line
    store = Store(make_engine(f"sqlite:///{tmp_path / 'baton.db'}"))
    first = ingest_paths([tmp_path / "projects"], store)
    assert first.files_loaded == 1 and not first.failures and not first.warnings
    with store.engine.connect() as connection:
        offset = connection.exec_driver_sql("SELECT read_offset FROM source_file").scalar_one()
    assert offset == len(b"".join(lines[:-1]))  # the unfinished line is read once it ends
    live.write_bytes(b"".join(lines))
    again = ingest_paths([tmp_path / "projects"], store)
    assert again.files_loaded == 1 and not again.failures
    whole = Store(make_engine(f"sqlite:///{tmp_path / 'whole.db'}"))
    ingest_paths([live], whole)
    events = "SELECT id, kind, input_tokens, output_tokens FROM event ORDER BY id"
    with store.engine.connect() as a, whole.engine.connect() as b:
        assert a.exec_driver_sql(events).all() == b.exec_driver_sql(events).all()
    store.engine.dispose()
    whole.engine.dispose()

"""``lines_before`` reads a file's lines backwards from a byte offset, a block at a time
(a tail read of a large stream looks back only as far as it needs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.regular_file import NotRegularFile, lines_before

LINES = [b'{"n": %d, "pad": "%s"}' % (n, b"x" * (n * 7 % 23)) for n in range(40)]


@pytest.mark.parametrize("block", [1, 5, 16, 64, 1 << 16])
def test_every_line_before_the_offset_comes_back_last_first(tmp_path: Path, block: int) -> None:
    path = tmp_path / "stream.jsonl"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    end = len(b"\n".join(LINES[:25])) + 1  # where line 26 starts, as a tail read's offset
    got = list(lines_before(path, end, block))
    assert got[0] == b""  # what follows the last newline before the offset
    assert got[1:] == LINES[:25][::-1]


def test_a_caller_that_stops_early_reads_only_the_end(tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    lines = lines_before(path, path.stat().st_size, block=64)
    assert [next(lines) for _ in range(3)] == [b"", LINES[-1], LINES[-2]]


def test_an_offset_past_the_end_reads_from_the_end_and_a_fifo_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.jsonl"
    path.write_bytes(b"a\nb\n")
    assert list(lines_before(path, 1000)) == [b"", b"b", b"a"]
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile):
        list(lines_before(fifo, 10))

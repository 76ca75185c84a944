"""A file's bytes, decoded once into the container shape every sniffer and parser shares.

Containers: a JSON document, JSON Lines, a SQLite database, or something else. Formats are
recognised from content (first bytes, then keys), never from the path alone. Parsers read the
containers only the ways given here: JSON Lines values with their bad lines reported
(``line_values``) and a SQLite database opened read-only (``connect_read_only``), which
leaves the database's folder exactly as it was.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ingest.errors import ParseError

if TYPE_CHECKING:
    import sqlite3

SQLITE_MAGIC = b"SQLite format 3\x00"
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, which some editors and writers put first
LOG_SUFFIXES = (".jsonl", ".ndjson")  # JSON Lines by name: empty, they are logs with no line yet
CUT_LINE = "cut short (its writer stopped mid-line); the value written after it on the same line was loaded"
_RESUME_TRIES = 32


@dataclass(slots=True)
class JsonLine:
    number: int  # 1-based line number in the file
    value: Any


@dataclass(slots=True)
class Content:
    """One file as parsers see it. ``name`` is its path; ``kind`` is ``json``, ``jsonl``,
    ``sqlite`` or ``other``.

    For ``jsonl``, ``lines`` holds every complete, decodable line; ``bad_lines`` records
    the ones that are not JSON (number, message): a reader reports them with the outcome. ``first_line`` is 1 and ``offset`` 0
    unless the file is being read from a byte offset (append-only tailing): then they are
    the line number and byte offset where the content starts.
    """

    name: str
    kind: str
    json: Any = None
    lines: list[JsonLine] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    first_line: int = 1
    offset: int = 0
    notes: tuple[str, ...] = ()  # warnings on the decoding itself (a number beyond a double)
    newlines: int = 0  # for ``jsonl``: how many newlines the decoded text holds
    _path: Path | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> Path:
        """The file as a Path, made on first use: most files parse without needing one
        (building a Path cost about 3% of a cold ingest)."""
        if self._path is None:
            self._path = Path(self.name)
        return self._path

    @property
    def first_value(self) -> Any:
        """The JSON document, or the first line of a JSONL file: what sniffers look at."""
        if self.kind == "json":
            return self.json
        if self.kind == "jsonl" and self.lines:
            return self.lines[0].value
        return None


def _decode_text(path: str, data: bytes, first_line: int = 1) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data[: exc.start].count(b"\n")
        raise ParseError(path, f"not valid UTF-8 (byte {exc.start})", line) from None


def _json_error(path: str, data: bytes, exc: orjson.JSONDecodeError) -> ParseError:
    line = getattr(exc, "lineno", None)
    msg = str(exc).split(":")[0]
    if not data.strip():
        return ParseError(path, "empty file")
    if exc.pos is not None and exc.pos >= len(data.rstrip()) - 1:
        msg = "truncated JSON (the document ends before it is complete)"
    return ParseError(path, f"invalid JSON: {msg}", line)


_NOTHING = object()
_INFINITE = "number is infinity when parsed as double"


def _beyond_double(data: bytes, exc: orjson.JSONDecodeError) -> Any:
    """The value of JSON text that orjson refuses only for a number beyond a double's range
    (``1e400``), read by the standard parser, which makes it infinity (the field holding it
    is then stored empty, with a warning: ``core.record_values``); else ``_NOTHING``. Only
    on that error: a good file never pays for it."""
    if not str(exc).startswith(_INFINITE):
        return _NOTHING
    import json

    try:
        return json.loads(data.decode("utf-8"), parse_constant=_not_json)
    except (ValueError, RecursionError):
        return _NOTHING


def _infinite_note(path: str, line: int) -> str:
    return (
        f"{path}:{line}: a number beyond the range of a double (such as 1e400) is read as infinity;"
        " a field that holds it is stored as null, and so is the number in a stored document"
    )


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: the standard parser's extensions


def decode(path: str | Path, data: bytes, first_line: int = 1, offset: int = 0) -> Content:
    """Decide the container and decode it. Raises ParseError for broken text."""
    path = os.fspath(path)
    if data.startswith(SQLITE_MAGIC):
        return Content(name=path, kind="sqlite")
    if offset == 0 and data.startswith(BOM):
        data = data[len(BOM) :]
    stripped = data.lstrip()
    if not stripped:
        if first_line > 1:
            return Content(name=path, kind="jsonl", first_line=first_line, offset=offset)
        raise ParseError(path, "empty file")
    if stripped[:1] not in (b"{", b"["):
        return Content(name=path, kind="other")
    if not _lines_follow_a_value(stripped):  # else no whole document: that read is skipped
        try:  # orjson accepts only valid UTF-8, so a document it reads needs no other check
            return Content(
                name=path, kind="json", json=orjson.loads(data), first_line=first_line, offset=offset
            )
        except orjson.JSONDecodeError as exc:
            value = _beyond_double(data, exc)
            if value is not _NOTHING:
                note = _infinite_note(path, getattr(exc, "lineno", first_line) + first_line - 1)
                return Content(
                    name=path, kind="json", json=value, first_line=first_line, offset=offset, notes=(note,)
                )
    # Not one document: JSON Lines if its first line is a complete JSON value. A document cut
    # short is not JSON Lines because some later line of it happens to be valid JSON. Invalid
    # UTF-8 gets its own message, with the byte and line (``utf8_line``: lines count from 1).
    content = _json_lines(path, data, first_line, offset, utf8_line=1)
    if not content.lines or (content.bad_lines and content.bad_lines[0][0] <= content.lines[0].number):
        raise _json_error(path, data, _whole_error(data))
    return content


_NON_SPACE = re.compile(rb"[^ \t\r\n]")
_NON_ASCII_SPACE = re.compile(rb"[^ \t\r\n\x0b\x0c]")  # what bytes.strip() leaves


def blank(data: bytes) -> bool:
    """Nothing but a byte order mark and whitespace (found without copying the bytes, as
    ``data.strip()`` of a file ending in a newline does)."""
    return _NON_ASCII_SPACE.search(data, len(BOM) if data.startswith(BOM) else 0) is None


def _lines_follow_a_value(stripped: bytes) -> bool:
    """The text's first line is a whole JSON value and more than JSON whitespace follows it:
    then it is no single JSON document, and reading it as one (about a fifth of decoding a
    large JSON Lines file) can only fail."""
    end = stripped.find(b"\n")
    if end < 0 or _NON_SPACE.search(stripped, end) is None:
        return False
    try:
        orjson.loads(stripped[:end])
    except orjson.JSONDecodeError:
        return False
    return True


def _whole_error(data: bytes) -> orjson.JSONDecodeError:
    """Why ``data`` is no JSON document (it is not: called once that is known)."""
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return exc.with_traceback(None)  # its traceback would hold this frame, a cycle
    raise AssertionError("a JSON document read as JSON Lines")


def decode_lines(path: str | Path, data: bytes, first_line: int = 1, offset: int = 0) -> Content:
    """Complete lines (new lines of a log) as JSON Lines content, even a single line, which
    ``decode`` would call a JSON document, starting at line ``first_line``, byte ``offset`` of
    the file. Raises ParseError for text that is not UTF-8."""
    path = os.fspath(path)
    if offset == 0 and data.startswith(BOM):
        data = data[len(BOM) :]
    return _json_lines(path, data, first_line, offset, utf8_line=first_line)


def complete_lines(content: Content) -> Content:
    """``content`` (JSON Lines) without its last line when no newline ends it yet: what
    ``decode_lines`` of the text up to the last newline gives, without decoding it again (a
    live session of several MB was decoded twice on its first read)."""
    last = content.first_line + content.newlines - 1  # the number of the last complete line
    if content.lines and content.lines[-1].number > last:
        content.lines.pop()
    content.bad_lines = [bad for bad in content.bad_lines if bad[0] <= last]
    return content


def _json_lines(path: str, data: bytes, first_line: int, offset: int, utf8_line: int) -> Content:
    """Every line of ``data`` decoded; a line that is not JSON is a bad line with its number
    (the last one, which has no newline yet, is called incomplete). A line cut short by a
    writer that died, and then continued by the same writer restarted (a value appended
    right after the cut, without a newline between), is a bad line whose last value loads.
    Text that is not UTF-8 raises ParseError for the first bad byte, lines numbered from
    ``utf8_line`` (orjson reads only UTF-8: only a line it refuses is looked at)."""
    content = Content(name=path, kind="jsonl", first_line=first_line, offset=offset)
    raw_lines = data.split(b"\n")
    content.newlines = len(raw_lines) - 1
    for index, raw in enumerate(raw_lines):
        number = first_line + index
        if not raw.strip():
            continue
        try:
            content.lines.append(JsonLine(number, orjson.loads(raw)))
        except orjson.JSONDecodeError as exc:
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    _decode_text(path, data, utf8_line)  # raises, naming the first bad byte
            value = _beyond_double(raw, exc)
            if value is not _NOTHING:
                content.lines.append(JsonLine(number, value))
                content.notes += (_infinite_note(path, number),)
                continue
            if index == len(raw_lines) - 1:
                content.bad_lines.append((number, "incomplete last line (no newline yet)"))
                continue
            resumed = _resumed_value(raw, exc)
            if resumed is not _NOTHING:
                content.lines.append(JsonLine(number, resumed))
                content.bad_lines.append((number, CUT_LINE))
            else:
                content.bad_lines.append((number, f"invalid JSON: {str(exc).split(':')[0]}"))
    return content


def _resumed_value(raw: bytes, exc: orjson.JSONDecodeError) -> Any:
    """The complete JSON value that ends a bad line, when the line is a cut-short value with
    a whole one written after it (or ``_NOTHING``). The whole value starts at or before the
    place the line stops being JSON, so only the few ``{`` and ``[`` up to it are tried; a
    value starting inside the cut part cannot parse to the end of the line (it would close
    what the whole value opened)."""
    text = raw.decode("utf-8").rstrip()
    end = min(exc.pos if exc.pos is not None else len(text), len(text) - 1)
    tries = 0
    for start in range(end, 0, -1):
        if text[start] not in "{[":
            continue
        try:
            return orjson.loads(text[start:])
        except orjson.JSONDecodeError:
            tries += 1
            if tries >= _RESUME_TRIES:
                break
    return _NOTHING


def line_values(content: Content, skipped: list[str] | None = None) -> list[tuple[int, Any]]:
    """Each value of a JSON Lines file with its line number: the one way parsers of line
    formats read them. A line that is not JSON is left out: the reader reports it with the
    file's outcome (``Content.bad_lines``), and the good lines around it load. Given
    ``skipped``, each is also added there as a warning, ``path:line: skipped: reason``.
    Other content is one value on line ``first_line`` (a file of one line decodes as a JSON
    document)."""
    if content.kind != "jsonl":
        return [(content.first_line, content.json)]
    if skipped is not None:
        skipped.extend(
            f"{content.path}:{number}: skipped: {message}" for number, message in content.bad_lines
        )
    return [(line.number, line.value) for line in content.lines]


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """The one way a source SQLite database is opened: read-only, creating and writing
    nothing beside it (no ``-shm``, no ``-wal``), and seeing the commits still in its
    ``-wal`` (``ingest.sqlite_source``). The caller closes it; failures are sqlite3.Error."""
    from ingest.sqlite_source import connect

    return connect(path)


def sqlite_problem(path: str | Path) -> str | None:
    """Why a SQLite file cannot be read (corrupt, encrypted, locked), or None when it can.

    Formats claim only databases they recognise; a file none of them can open at all is
    a failure the loader records once, instead of each format guessing it is theirs."""
    import sqlite3
    from contextlib import closing

    try:
        with closing(connect_read_only(path)) as connection:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return f"cannot read this SQLite database: {exc}"
    return None

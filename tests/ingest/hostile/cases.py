"""A generator of hostile input: files that are truncated, half-written, foreign, malicious or
just odd, each with the outcome a user must see. ``make_cases(folder)`` writes them and says
what each one must become; ``tests/ingest/hostile/test_hostile.py`` ingests them all beside
good files.

Run it alone to look at the files: ``python -m tests.ingest.hostile.cases DIR``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "sample_runs"
ACF_CHECKPOINT = SAMPLES / "acf/v0.1.0/checkpoints/87eb2d5e-2760-4270-84bf-556a91df5d96"
ACF_STREAM = SAMPLES / "acf/v0.1.0/streams/ticket-indexing.jsonl"
LOOPENGT_CHECKPOINT = SAMPLES / "loopengt/v0.1.0/.loopengt/runs/1248b4f2f77a/checkpoints/a95d497d4724.json"


@dataclass(frozen=True)
class Case:
    category: str
    path: str  # relative to the folder
    outcome: str  # loaded, ignored, failed (as stored for the file); skipped: never read nor stored
    says: str = ""  # a part of the recorded error or warning text; "" when it loads cleanly
    records: bool = True  # a loaded file must have stored records


def _acf(name: str, **changes: object) -> dict:
    """An ACF checkpoint of its own task (ids from the case's name), with fields changed."""
    doc = orjson.loads(sorted(ACF_CHECKPOINT.glob("*.json"))[0].read_bytes())
    doc["checkpoint_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hostile/{name}/cp"))
    doc["task_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hostile/{name}/task"))
    doc.pop("parent_checkpoint_id", None)
    doc.update(changes)
    return doc


def _write(folder: Path, relative: str, data: bytes) -> str:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative


def _dumps(doc: object) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def truncated(folder: Path) -> list[Case]:
    """A writer died mid-write: every cut of a checkpoint fails as truncated, with a line."""
    full = _dumps(_acf("truncated"))
    cuts = [len(full) * k // 8 for k in range(1, 8)]
    return [
        Case("truncated", _write(folder, f"truncated/cut-{cut}.json", full[:cut]), "failed", "truncated JSON")
        for cut in cuts
    ]


def truncated_other_frameworks(folder: Path) -> list[Case]:
    sources = {
        "loopengt": LOOPENGT_CHECKPOINT.read_bytes(),
        "harness": sorted((SAMPLES / "harness/v0.14.0/checkpoints").glob("*.json"))[0].read_bytes(),
        "harness-orchestrator": sorted((SAMPLES / "harness/v0.0.2/checkpoints").glob("*.json"))[
            0
        ].read_bytes(),
    }
    return [
        Case(
            "truncated",
            _write(folder, f"truncated/{name}-{quarter}.json", data[: len(data) * quarter // 4]),
            "failed",
            "truncated JSON",
        )
        for name, data in sources.items()
        for quarter in (1, 2, 3)
    ]


def empty(folder: Path) -> list[Case]:
    return [
        Case("empty", _write(folder, "empty/zero.json", b""), "failed", "empty file"),
        Case("empty", _write(folder, "empty/blank.json", b" \n\t\n"), "failed", "empty file"),
    ]


def invalid_utf8(folder: Path) -> list[Case]:
    doc = _dumps(_acf("utf8"))
    middle = doc.index(b"Migrate")
    cases = []
    for i, bad in enumerate([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]):
        data = doc[:middle] + bad + doc[middle:]
        cases.append(
            Case("invalid utf-8", _write(folder, f"utf8/bad-{i}.json", data), "failed", "not valid UTF-8")
        )
    return cases


def wrong_types(folder: Path) -> list[Case]:
    """Identity fields of the wrong type fail the file; any other field loads without it."""
    cases = []
    for i, (field, value, outcome) in enumerate(
        [
            ("checkpoint_id", 42, "failed"),
            ("checkpoint_id", "", "failed"),
            ("task_id", None, "failed"),
            ("checkpoint_id", {"x": 1}, "failed"),
            ("task_id", ["a"], "failed"),
            ("agent_id", ["a"], "loaded"),
            ("completed_steps", "not a list", "loaded"),
            ("confidence", "high", "loaded"),
        ]
    ):
        doc = _acf(f"types-{i}")
        doc[field] = value
        says = field if outcome == "failed" else ""
        cases.append(
            Case("wrong types", _write(folder, f"types/{field}-{i}.json", _dumps(doc)), outcome, says)
        )
    return cases


def foreign_json(folder: Path) -> list[Case]:
    shapes = {
        "package.json": {"name": "x", "version": "1.0.0", "dependencies": {}},
        "tsconfig.json": {"compilerOptions": {"strict": True}},
        "numbers.json": [1, 2, 3],
        "strings.json": ["a", "b"],
        "nested.json": {"a": {"b": {"c": []}}},
        "null.json": None,
        "true.json": True,
        "number.json": 12,
        "string.json": "checkpoint",
        "objects.json": [{"id": 1}, {"id": 2}],
        "empty-object.json": {},
        "empty-array.json": [],
        "near-miss.json": {"checkpoint": {"id": 1}, "status": "failed"},
    }
    return [
        # A bare scalar is not even a container of records: "not JSON, JSON Lines or SQLite".
        Case("foreign JSON", _write(folder, f"foreign/{name}", orjson.dumps(doc)), "ignored", "")
        for name, doc in shapes.items()
    ]


def foreign_jsonl(folder: Path) -> list[Case]:
    lines = b"".join(orjson.dumps({"level": "info", "msg": f"line {i}"}) + b"\n" for i in range(5))
    return [
        Case(
            "foreign JSON", _write(folder, "foreign/app.log.jsonl", lines), "ignored", "no known agent format"
        )
    ]


def not_json(folder: Path) -> list[Case]:
    blobs = {
        "notes.log": b"plain text, not JSON\n",
        "binary.json": bytes(range(256)) * 4,
        "image.json": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "yaml.json": b"key: value\nlist:\n  - a\n",
        "html.json": b"<html><script>alert(1)</script></html>",
    }
    return [
        Case("not JSON", _write(folder, f"notjson/{name}", data), "ignored", "")
        for name, data in blobs.items()
    ]


def deep_nesting(folder: Path) -> list[Case]:
    """Nesting deeper than any JSON parser allows: a clear failure, never a crash."""
    deep = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
    in_checkpoint = _dumps(_acf("deep", partial_output=0)).replace(
        b'"partial_output": 0', b'"partial_output": ' + b"[" * 2_000 + b"]" * 2_000
    )
    return [
        Case("deep nesting", _write(folder, "deep/array.json", deep), "failed", "JSON"),
        Case("deep nesting", _write(folder, "deep/object.json", deep_object), "failed", "JSON"),
        Case("deep nesting", _write(folder, "deep/checkpoint.json", in_checkpoint), "failed", "JSON"),
    ]


def injection(folder: Path) -> list[Case]:
    """Markup, script and terminal escapes in every text field: stored as text, loaded."""
    payloads = [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "**bold** `code` ${{7*7}} {{7*7}}",
        "\x1b[2J\x1b]0;pwned\x07 title",
        "'; DROP TABLE run; --",
        "\u202eevil\u202c",
        "zero\u200bwidth\ufeffmarks",  # (NUL: PostgreSQL refuses it, see test_lose_nothing)
    ]
    cases = []
    for i, text in enumerate(payloads):
        doc = _acf(f"inject-{i}", agent_id=f"agent-{i}-{text}", task_summary=text, completed_steps=[text])
        cases.append(Case("injection", _write(folder, f"inject/payload-{i}.json", _dumps(doc)), "loaded"))
    return cases


def odd_names(folder: Path) -> list[Case]:
    """File names with spaces, quotes, newlines, bidi controls and markup: loaded as they are."""
    names = [
        "with space.json",
        "quote'\"name.json",
        "new\nline.json",
        "evil\u202enosj.json",
        "<b>bold</b>.json",
        "-dash-first.json",
        "%2e%2e%2fescape.json",
        "ünïcödé-名前.json",
    ]
    return [
        Case("odd file names", _write(folder, f"names/{name}", _dumps(_acf(f"name-{i}"))), "loaded")
        for i, name in enumerate(names)
    ]


def duplicate_keys(folder: Path) -> list[Case]:
    doc = _dumps(_acf("dupkeys"))
    data = doc.replace(b'"status": "partial"', b'"status": "failed", "status": "partial"', 1)
    return [Case("duplicate keys", _write(folder, "dupkeys/status.json", data), "loaded")]


def too_large(folder: Path) -> list[Case]:
    """Bigger than the size limit the test sets (BATON_MAX_FILE_MB=1)."""
    doc = _acf("large", partial_output={"blob": "x" * (1_200_000)})
    return [Case("too large", _write(folder, "large/blob.json", _dumps(doc)), "failed", "too large")]


def sqlite_files(folder: Path) -> list[Case]:
    (folder / "sqlite").mkdir(parents=True, exist_ok=True)
    foreign = folder / "sqlite/foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('hello')")
    db.close()
    header_only = _write(folder, "sqlite/header.db", b"SQLite format 3\x00" + b"\x00\x03" + b"\x00" * 4000)
    cut = foreign.read_bytes()
    half = _write(folder, "sqlite/half.db", cut[: len(cut) // 2])
    magic_only = _write(folder, "sqlite/magic.db", b"SQLite format 3\x00")
    return [
        Case("sqlite", "sqlite/foreign.db", "ignored", ""),
        Case("sqlite", header_only, "failed", "SQLite"),
        Case("sqlite", half, "failed", "SQLite"),
        Case("sqlite", magic_only, "failed", "SQLite"),
    ]


def special_files(folder: Path) -> list[Case]:
    """A FIFO and a link to /dev/zero named like checkpoints: skipped with a line, never read."""
    (folder / "special").mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "special/stuck.json")
    (folder / "special/endless.json").symlink_to("/dev/zero")
    return [
        Case("special files", "special/stuck.json", "skipped"),
        Case("special files", "special/endless.json", "skipped"),
    ]


def directory_loop(folder: Path) -> list[Case]:
    target = folder / "loop"
    target.mkdir(parents=True, exist_ok=True)
    (target / "back").symlink_to(target)
    (target / "self").symlink_to(folder)
    return [Case("directory loop", _write(folder, "loop/inside.json", _dumps(_acf("loop"))), "loaded")]


def big_numbers(folder: Path) -> list[Case]:
    """Numbers at the edges that fit: huge floats, negative counts, exponent forms."""
    cases = []
    for i, value in enumerate([1e308, -1, 0.0, 1e-300, 9_007_199_254_740_993]):
        doc = _acf(f"num-{i}", confidence=value)
        cases.append(
            Case("edge numbers", _write(folder, f"numbers/confidence-{i}.json", _dumps(doc)), "loaded")
        )
    return cases


def jsonl_streams(folder: Path) -> list[Case]:
    """JSON Lines: a half line at the end of a file still being written waits for its end."""
    good = ACF_STREAM.read_bytes()
    lines = good.splitlines(keepends=True)
    half_last = b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2]
    stream = orjson.loads(lines[0])
    return [
        Case("jsonl", _write(folder, "jsonl/half-last.jsonl", half_last), "loaded"),
        Case("jsonl", _write(folder, "jsonl/one-line.jsonl", orjson.dumps(stream) + b"\n"), "loaded"),
    ]


def long_line(folder: Path) -> list[Case]:
    """One checkpoint on a single line of about 10 MB."""
    doc = _acf("longline", partial_output={"text": "y" * 10_000_000})
    data = orjson.dumps(doc)
    return [Case("long line", _write(folder, "longline/one.json", data), "loaded")]


GENERATORS: list[Callable[[Path], list[Case]]] = [
    truncated,
    truncated_other_frameworks,
    empty,
    invalid_utf8,
    wrong_types,
    foreign_json,
    foreign_jsonl,
    not_json,
    deep_nesting,
    injection,
    odd_names,
    duplicate_keys,
    too_large,
    sqlite_files,
    special_files,
    directory_loop,
    big_numbers,
    jsonl_streams,
]


def make_cases(folder: Path) -> list[Case]:
    """Write every hostile file below ``folder``; return what each must become."""
    return [case for generate in GENERATORS for case in generate(folder)]


def bad_lines(folder: Path) -> list[Case]:
    """JSON Lines with lines that are not JSON: the good lines load, the bad ones are listed."""
    lines = ACF_STREAM.read_bytes().splitlines(keepends=True)
    variants = {
        "middle": lines[:1] + [b"{not json\n"] + lines[1:],
        "two": lines[:1] + [b"oops\n"] + lines[1:2] + [b"[1,\n"] + lines[2:],
        "binary-line": lines[:1] + [b"\x00\x01\x02\n"] + lines[1:],
        "cut-then-appended": lines[:1] + [lines[1][: len(lines[1]) // 2] + lines[2]] + lines[3:],
        "html-line": lines[:1] + [b"<html>\n"] + lines[1:],
    }
    return [
        Case("bad lines", _write(folder, f"badlines/{name}.jsonl", b"".join(data)), "loaded", "bad line")
        for name, data in variants.items()
    ]


def byte_order_mark(folder: Path) -> list[Case]:
    bom = b"\xef\xbb\xbf"
    return [
        Case("byte order mark", _write(folder, "bom/checkpoint.json", bom + _dumps(_acf("bom"))), "loaded"),
        Case("byte order mark", _write(folder, "bom/stream.jsonl", bom + ACF_STREAM.read_bytes()), "loaded"),
    ]


def empty_logs(folder: Path) -> list[Case]:
    """Real agents leave empty logs behind: a log with no line yet, not a failure."""
    return [
        Case("empty logs", _write(folder, "emptylogs/trace.jsonl", b""), "loaded", records=False),
        Case("empty logs", _write(folder, "emptylogs/events.ndjson", b""), "loaded", records=False),
        Case("empty logs", _write(folder, "emptylogs/blank.jsonl", b"\n\n"), "loaded", records=False),
    ]


def field_values(folder: Path) -> list[Case]:
    """Values no column can hold: a warning on the field, and the record loads."""
    doc = _dumps(_acf("big-int"))
    beyond = doc.replace(b'"confidence": 0.75', b'"confidence": 0.75, "tokens": 1', 1)
    cases = [
        Case(
            "field values",
            _write(
                folder,
                "values/emitted-at-edge.json",
                _dumps(_acf("edge-time", emitted_at="9999-12-31T23:59:59-12:00")),
            ),
            "loaded",
        ),
        Case(
            "field values",
            _write(
                folder,
                "values/emitted-at-year-0.json",
                _dumps(_acf("year0", emitted_at="0000-01-01T00:00:00Z")),
            ),
            "loaded",
        ),
        Case(
            "field values",
            # orjson refuses 1e400; the standard parser reads it as infinity: loaded, with a warning.
            _write(folder, "values/huge-float.json", doc.replace(b"0.75", b"1e400", 1)),
            "loaded",
            "read as infinity",
        ),
        Case(
            "field values",
            _write(
                folder,
                "values/beyond-64-bits.json",
                beyond.replace(b'"tokens": 1', b'"tokens": 123456789012345678901234567890', 1),
            ),
            "loaded",
        ),
    ]
    return cases


def links(folder: Path) -> list[Case]:
    """Links that lead nowhere: skipped with a line by the walk and the watcher alike."""
    (folder / "links").mkdir(parents=True, exist_ok=True)
    (folder / "links/dangling.json").symlink_to(folder / "links/nowhere.json")
    (folder / "links/loop-a.json").symlink_to(folder / "links/loop-b.json")
    (folder / "links/loop-b.json").symlink_to(folder / "links/loop-a.json")
    return [
        Case("links", "links/dangling.json", "skipped"),
        Case("links", "links/loop-a.json", "skipped"),
        Case("links", "links/loop-b.json", "skipped"),
    ]


GENERATORS += [bad_lines, byte_order_mark, empty_logs, field_values, links]


if __name__ == "__main__":
    written = make_cases(Path(sys.argv[1]))
    print(f"{len(written)} files in {len({c.category for c in written})} categories")

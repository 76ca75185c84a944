"""Write the Claude Code sample transcripts, line by line, after the public format.

Claude Code cannot run here (it needs an Anthropic account and the network), so every line is
spelled out by hand from ``shared/formats/coding_agent_sessions.md`` §1 and the public
transcripts it cites (see sample_runs/claude_code/README.md)::

    python sample_runs/generators/make_claude_code.py --out sample_runs/claude_code

Ids and timestamps are fixed, so the files are the same on every run and the tests can state
their figures by hand. Only the standard library is imported.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT = "-home-dev-webapp"
CWD = "/home/dev/webapp"
SONNET = "claude-sonnet-4-5-20250929"
T0 = datetime(2026, 5, 14, 9, 0, 0, tzinfo=UTC)


def sid(n: int) -> str:
    return f"c0de0000-0000-4000-8000-{n:012d}"


class Session:
    """Lines of one transcript file, chained by parentUuid unless told otherwise."""

    def __init__(self, session: int, version: str = "2.1.152", start: datetime = T0, **extra: Any) -> None:
        self.session, self.version, self.now = sid(session), version, start
        self.lines: list[dict[str, Any]] = []
        self.last: str | None = None
        self.count = 0
        self.extra = extra

    def uid(self) -> str:
        self.count += 1
        return f"{self.session[-4:]}{self.count:04d}-aaaa-4bbb-8ccc-{self.session[-12:]}"

    def stamp(self, seconds: int = 5) -> str:
        self.now += timedelta(seconds=seconds)
        return self.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def base(self, kind: str, parent: str | None | bool = True, **fields: Any) -> dict[str, Any]:
        uuid = self.uid()
        line = {
            "parentUuid": self.last if parent is True else (parent or None),
            "isSidechain": False,
            "userType": "external",
            "cwd": self.extra.get("cwd", CWD),
            "sessionId": self.session,
            "version": self.version,
            "gitBranch": "feature/health",
            "type": kind,
            "uuid": uuid,
            "timestamp": self.stamp(),
        } | self.extra
        line.update(fields)
        self.lines.append(line)
        self.last = uuid
        return line

    def prompt(self, text: str, parent: str | None | bool = True, **fields: Any) -> dict[str, Any]:
        return self.base("user", parent, message={"role": "user", "content": text}, **fields)

    def reply(
        self,
        msg: str,
        content: list[dict[str, Any]],
        usage: dict[str, Any],
        stop: str | None = "end_turn",
        model: str = SONNET,
        request: str | None = "auto",
        **fields: Any,
    ) -> dict[str, Any]:
        message = {
            "id": msg,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }
        extra = {"requestId": f"req_{msg[4:]}" if request == "auto" else request} if request else {}
        return self.base("assistant", message=message, **extra, **fields)

    def result(self, tool_id: str, text: str, error: bool = False, tool_result: Any = None) -> dict[str, Any]:
        block = {"tool_use_id": tool_id, "type": "tool_result", "content": text}
        if error:
            block["is_error"] = True
        fields = {"toolUseResult": tool_result if tool_result is not None else {"stdout": text, "stderr": ""}}
        return self.base("user", message={"role": "user", "content": [block]}, **fields)

    def raw(self, line: dict[str, Any]) -> None:
        self.lines.append(line)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in self.lines)
        path.write_text(text, encoding="utf-8")


def usage(
    inp: int, out: int, read: int = 0, w5: int = 0, w1h: int = 0, nested: bool = True
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "input_tokens": inp,
        "cache_creation_input_tokens": w5 + w1h,
        "cache_read_input_tokens": read,
        "output_tokens": out,
        "service_tier": "standard",
    }
    if nested:
        found["cache_creation"] = {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1h}
    return found


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool(tool_id: str, name: str, **tool_input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


def normal(out: Path) -> None:
    """Tool use, one 5-minute + 1-hour cache write, echoed usage in progress lines."""
    s = Session(1)
    s.raw(
        {
            "type": "file-history-snapshot",
            "messageId": "m0",
            "snapshot": {"trackedFileBackups": {}, "timestamp": s.stamp(0)},
            "isSnapshotUpdate": False,
        }
    )
    s.prompt("Add a /health endpoint to the Flask app and test it", promptId="p1", permissionMode="default")
    s.reply("msg_01A", [text("I'll look at the app first.")], usage(4, 120, w1h=12000), stop=None)
    s.reply(
        "msg_01A",
        [tool("toolu_01", "Read", file_path=f"{CWD}/app.py")],
        usage(4, 120, w1h=12000),
        stop="tool_use",
    )
    s.result(
        "toolu_01",
        "from flask import Flask\napp = Flask(__name__)\n",
        tool_result={"type": "text", "file": {"filePath": f"{CWD}/app.py", "numLines": 2}},
    )
    s.reply(
        "msg_01B",
        [
            tool(
                "toolu_02",
                "Edit",
                file_path=f"{CWD}/app.py",
                old_string="app = Flask(__name__)\n",
                new_string="app = Flask(__name__)\n\n@app.get('/health')\ndef health():\n    return {'ok': True}\n",
            )
        ],
        usage(6, 240, read=12000, w1h=800),
        stop="tool_use",
    )
    s.result(
        "toolu_02",
        "The file app.py has been updated.",
        tool_result={"filePath": f"{CWD}/app.py", "oldString": "x", "newString": "y"},
    )
    s.reply(
        "msg_01C",
        [tool("toolu_03", "Bash", command="pytest -q", description="Run tests")],
        usage(5, 60, read=12800, w5=100, w1h=200),
        stop="tool_use",
    )
    s.raw(
        {
            "parentUuid": s.last,
            "isSidechain": False,
            "type": "progress",
            "sessionId": s.session,
            "uuid": s.uid(),
            "timestamp": s.stamp(1),
            "toolUseID": "toolu_03",
            "parentToolUseID": "toolu_03",
            "data": {
                "type": "bash_progress",
                "output": "..",
                "usage": {"input_tokens": 999, "output_tokens": 9999},
            },
        }
    )
    s.result("toolu_03", "3 passed in 0.12s")
    s.reply(
        "msg_01D",
        [text("Added GET /health returning {'ok': true}; the 3 tests pass.")],
        usage(3, 150, read=13100, w5=200),
    )
    s.raw(
        {
            "type": "system",
            "subtype": "turn_duration",
            "durationMs": 41000,
            "parentUuid": s.last,
            "sessionId": s.session,
            "uuid": s.uid(),
            "timestamp": s.stamp(1),
            "isSidechain": False,
        }
    )
    s.raw({"type": "custom-title", "customTitle": "Health endpoint", "sessionId": s.session})
    s.write(out / PROJECT / f"{s.session}.jsonl")


def subagents(out: Path) -> None:
    """A Task subagent in its own file; its usage echoed in the parent is not counted."""
    s = Session(2, start=T0 + timedelta(hours=1))
    s.prompt("Find where sessions are stored and summarise it")
    s.reply(
        "msg_02A",
        [
            tool(
                "toolu_21",
                "Task",
                description="Find session storage",
                prompt="Find where sessions are stored",
                subagent_type="Explore",
            )
        ],
        usage(10, 80, w1h=5000),
        stop="tool_use",
    )
    for n in range(2):
        s.raw(
            {
                "parentUuid": s.last,
                "isSidechain": False,
                "type": "progress",
                "sessionId": s.session,
                "uuid": s.uid(),
                "timestamp": s.stamp(2),
                "toolUseID": f"agent_msg_{n}",
                "parentToolUseID": "toolu_21",
                "data": {
                    "type": "agent_progress",
                    "agentId": "a7e3f19",
                    "message": {
                        "type": "assistant",
                        "message": {
                            "id": f"msg_02S{n}",
                            "model": "claude-haiku-4-5-20251001",
                            "usage": usage(50, 40),
                        },
                    },
                },
            }
        )
    s.result(
        "toolu_21",
        "Sessions live in storage/sessions.py (SQLite).",
        tool_result={
            "status": "completed",
            "agentId": "a7e3f19",
            "totalDurationMs": 9000,
            "totalTokens": 2290,
            "totalToolUseCount": 1,
            "usage": usage(50, 40),
        },
    )
    s.reply(
        "msg_02B", [text("Sessions are stored in SQLite by storage/sessions.py.")], usage(8, 60, read=5000)
    )
    s.write(out / PROJECT / f"{s.session}.jsonl")
    a = Session(2, start=T0 + timedelta(hours=1, seconds=12), agentId="a7e3f19")
    a.count = 50
    a.prompt("Find where sessions are stored", parent=None, isSidechain=True)
    a.reply(
        "msg_02S0",
        [tool("toolu_2a", "Grep", pattern="session")],
        usage(50, 40, w5=2000),
        model="claude-haiku-4-5-20251001",
        stop="tool_use",
        isSidechain=True,
    )
    a.result("toolu_2a", "storage/sessions.py:3: import sqlite3")
    a.lines[-1]["isSidechain"] = True
    a.reply(
        "msg_02S1",
        [text("storage/sessions.py keeps sessions in SQLite.")],
        usage(30, 200, read=2000),
        model="claude-haiku-4-5-20251001",
        isSidechain=True,
    )
    a.write(out / PROJECT / s.session / "subagents" / "agent-a7e3f19.jsonl")


def compaction(out: Path) -> None:
    s = Session(3, start=T0 + timedelta(hours=2))
    s.prompt("Refactor the user model into its own module")
    before = s.reply(
        "msg_03A", [text("Done: models/user.py now holds User.")], usage(20, 900, read=150000, w1h=9000)
    )
    s.base(
        "system",
        parent=None,
        subtype="compact_boundary",
        content="Conversation compacted",
        logicalParentUuid=before["uuid"],
        compactMetadata={"trigger": "auto", "preTokens": 167094},
        level="info",
    )
    s.base(
        "user",
        message={
            "role": "user",
            "content": "This session is being continued from a previous conversation that ran out of context. Summary: User model moved.",
        },
        isCompactSummary=True,
        isVisibleInTranscriptOnly=True,
    )
    s.prompt("Now add type hints to it")
    s.reply("msg_03B", [text("Type hints added to models/user.py.")], usage(12, 400, w1h=3000))
    s.write(out / PROJECT / f"{s.session}.jsonl")


def rewind(out: Path) -> None:
    """The user rewinds to the first answer and asks again: two prompts share a parent."""
    s = Session(4, start=T0 + timedelta(hours=3))
    s.prompt("Write a slugify helper")
    first = s.reply("msg_04A", [text("Added utils.slugify().")], usage(10, 100, w1h=2000))
    s.prompt("Make it keep unicode letters")
    s.reply("msg_04B", [text("slugify now keeps unicode.")], usage(6, 80, read=2000))
    s.prompt("Make it transliterate to ASCII instead", parent=first["uuid"])
    s.reply("msg_04C", [text("slugify now transliterates with unidecode.")], usage(6, 90, read=2000))
    s.prompt("Add a test for it")
    last = s.reply("msg_04D", [text("Added test_slugify.")], usage(5, 70, read=2000))
    s.raw(
        {
            "type": "last-prompt",
            "lastPrompt": "Make it transliterate to ASCII instead",
            "leafUuid": last["uuid"],
            "sessionId": s.session,
        }
    )
    s.write(out / PROJECT / f"{s.session}.jsonl")


def streamed(out: Path) -> None:
    """One response written as three lines (partial usage first) and a /btw-style replay."""
    s = Session(5, start=T0 + timedelta(hours=4))
    s.prompt("Explain the retry decorator")
    s.reply(
        "msg_05A",
        [{"type": "thinking", "thinking": "Look at retry.py", "signature": "sig"}],
        usage(7, 3, read=4000, w1h=600),
        stop=None,
    )
    s.reply("msg_05A", [text("It retries three times")], usage(7, 3, read=4000, w1h=600), stop=None)
    s.reply("msg_05A", [text(" with exponential backoff.")], usage(7, 310, read=4000, w1h=600))
    s.reply(
        "msg_05A",
        [text("It retries three times with exponential backoff.")],
        usage(7, 310, read=4000, w1h=600),
        request="req_btw_replay",
    )
    s.write(out / PROJECT / f"{s.session}.jsonl")


def synthetic(s: Session, message: str, **fields: Any) -> dict[str, Any]:
    return s.reply(
        f"msg_{s.session[-4:]}ERR",
        [text(message)],
        usage(0, 0),
        stop="stop_sequence",
        model="<synthetic>",
        request=None,
        isApiErrorMessage=True,
        **fields,
    )


def rate_limited(out: Path) -> None:
    s = Session(6, start=T0 + timedelta(hours=6))
    s.prompt("Migrate the tests to pytest fixtures")
    s.reply(
        "msg_06A", [tool("toolu_61", "Bash", command="pytest -q")], usage(9, 70, w1h=4000), stop="tool_use"
    )
    s.result("toolu_61", "12 passed")
    s.reply("msg_06B", [text("All 12 pass before the migration.")], usage(4, 30, read=4000))
    s.prompt("Go ahead and migrate them")
    synthetic(s, "You've hit your session limit · resets 7:30pm (Europe/Paris)", error="rate_limit")
    s.write(out / PROJECT / f"{s.session}.jsonl")


def interrupted(out: Path) -> None:
    s = Session(7, start=T0 + timedelta(hours=7))
    s.prompt("Run the whole integration suite")
    s.reply(
        "msg_07A",
        [tool("toolu_71", "Bash", command="make integration")],
        usage(9, 50, w5=3000),
        stop="tool_use",
    )
    s.result(
        "toolu_71",
        "[Request interrupted by user for tool use]",
        error=True,
        tool_result={"stdout": "", "stderr": "", "interrupted": True},
    )
    s.base("user", message={"role": "user", "content": [text("[Request interrupted by user for tool use]")]})
    s.write(out / PROJECT / f"{s.session}.jsonl")


def api_errors(out: Path) -> None:
    s = Session(8, start=T0 + timedelta(hours=8))
    s.prompt("Show me the /users handler")
    s.reply("msg_08A", [text("It is in api/users.py, list_users().")], usage(12, 40, w1h=2500))
    s.prompt("Add pagination to /users")
    for attempt in (1, 2, 3):
        s.base(
            "system",
            subtype="api_error",
            level="error",
            error={
                "status": 500,
                "error": {
                    "type": "error",
                    "error": {"type": "api_error", "message": "Internal server error"},
                },
            },
            retryInMs=1000 * attempt,
            retryAttempt=attempt,
            maxRetries=3,
        )
    synthetic(
        s,
        'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
        error="server_error",
        apiErrorStatus=500,
    )
    s.write(out / PROJECT / f"{s.session}.jsonl")
    c = Session(11, start=T0 + timedelta(hours=11))
    c.prompt("How big is logs/?")
    c.reply("msg_11Z", [text("logs/all.log is 1.2 GB.")], usage(10, 20, w1h=900))
    c.prompt("Summarise every log file in logs/")
    c.reply(
        "msg_11A",
        [tool("toolu_b1", "Read", file_path=f"{CWD}/logs/all.log")],
        usage(15, 40, w1h=1000),
        stop="tool_use",
    )
    c.result("toolu_b1", "(a very long log)")
    synthetic(
        c,
        "API Error: 400 prompt is too long: 212044 tokens > 200000 maximum",
        error="invalid_request",
        apiErrorStatus=400,
    )
    c.write(out / PROJECT / f"{c.session}.jsonl")


def resumed(out: Path) -> None:
    """1.0.6x: resuming wrote a new file starting with a summary of the old leaf, then copies."""
    old = Session(9, version="1.0.62", start=T0 + timedelta(hours=9))
    old.prompt("Set up a Makefile with test and lint targets")
    old.reply(
        "msg_09A",
        [text("Makefile added with test and lint.")],
        usage(25, 300, read=0, w5=1800, nested=False),
        model="claude-sonnet-4-20250514",
    )
    old.write(out / PROJECT / f"{old.session}.jsonl")
    new = Session(10, version="1.0.62", start=T0 + timedelta(hours=10))
    new.raw({"type": "summary", "summary": "Makefile with test and lint targets", "leafUuid": old.last})
    for line in old.lines:
        new.raw(dict(line, sessionId=new.session))
    new.last = old.last
    new.prompt("Add a format target too")
    new.reply(
        "msg_10A",
        [text("Added make format (ruff format).")],
        usage(30, 120, read=1800, w5=200, nested=False),
        model="claude-sonnet-4-20250514",
    )
    new.write(out / PROJECT / f"{new.session}.jsonl")


def old_version(out: Path) -> None:
    """1.0.3: costUSD on each line and an inline sidechain (no subagent file, no agentId)."""
    s = Session(12, version="1.0.3", start=T0 + timedelta(hours=12))
    s.prompt("Rename the config module")
    s.reply(
        "msg_12A",
        [tool("toolu_c1", "Task", description="find imports", prompt="Find imports of config")],
        usage(100, 50, read=0, nested=False),
        stop="tool_use",
        model="claude-3-7-sonnet-20250219",
        costUSD=0.00105,
    )
    side = s.base(
        "user", parent=None, isSidechain=True, message={"role": "user", "content": "Find imports of config"}
    )
    s.reply(
        "msg_12S",
        [text("config is imported in 4 files.")],
        usage(200, 30, nested=False),
        model="claude-3-5-haiku-20241022",
        isSidechain=True,
        costUSD=0.00028,
        parentUuid=side["uuid"],
    )
    s.last = s.lines[1]["uuid"]
    s.result("toolu_c1", "config is imported in 4 files.")
    s.reply(
        "msg_12B",
        [text("Renamed config to settings in 4 files.")],
        usage(300, 120, nested=False),
        model="claude-3-7-sonnet-20250219",
        costUSD=0.0027,
    )
    s.write(out / PROJECT / f"{s.session}.jsonl")


def gateway(out: Path) -> None:
    """A model behind a self-hosted gateway that no price list knows, without requestId: unpriced."""
    s = Session(13, version="2.1.201", start=T0 + timedelta(hours=13), cwd="/home/dev/scratch")
    s.prompt("Say hello")
    s.reply("msg_13A", [text("Hello!")], usage(40, 5), model="qwen3-coder-30b-local", request=None)
    s.prompt("And goodbye")
    s.reply("msg_13B", [text("Goodbye!")], usage(50, 5), model="qwen3-coder-30b-local", request=None)
    s.write(out / "-home-dev-scratch" / f"{s.session}.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out / "projects"
    shutil.rmtree(out, ignore_errors=True)
    for make in (
        normal,
        subagents,
        compaction,
        rewind,
        streamed,
        rate_limited,
        interrupted,
        api_errors,
        resumed,
        old_version,
        gateway,
    ):
        make(out)


if __name__ == "__main__":
    main()

"""Claude Code transcripts: ``~/.claude/projects/<project>/<sessionId>.jsonl`` and their
subagents' ``<sessionId>/subagents/agent-<agentId>.jsonl`` (``shared/formats/coding_agent_sessions.md`` §1).

* One run per ``sessionId``: a subagent file carries its parent's ``sessionId`` (and an
  ``agentId``), so its lines become that run's agent; inline ``isSidechain`` lines too.
* One model call per response: streamed copies share ``message.id`` (a ``/btw`` replay a new
  ``requestId`` too) and count once, with the largest usage. Usage echoed in ``progress``
  lines and ``toolUseResult.usage`` is never read.
* Checkpoints: one per prompt on the main chain and one per compaction boundary, each with
  the nearest checkpoint above it as parent (``parentUuid``, ``logicalParentUuid`` across a
  compaction), so rewinds and edits are forks.
* A resumed session's file that starts with a ``summary`` whose ``leafUuid`` is in the file
  holds copies of the session it continues (that leaf and its ancestors): those are not
  counted again here.
* Unknown line types are kept raw as ``custom`` events; nothing unknown fails the file.
"""

from __future__ import annotations

import re
from typing import Any

from core.records import CheckpointRecord, ParsedFile
from ingest.content import Content, line_values
from ingest.parsers.claude_code.events import SessionRun
from ingest.parsers.claude_code.lines import MESSAGE_TYPES, QUIET_TYPES, prompt_text
from ingest.spec import FormatSpec

FRAMEWORK = "claude_code"
FORMAT_NAME = "claude_code.session"
SMALL_TYPES = frozenset({"summary", "file-history-snapshot", "queue-operation", "custom-title", "ai-title"})
AGENT_FILE = re.compile(r"agent-([\w-]+)\.jsonl$")
_UNKNOWN = "\x00unknown"  # the nearest checkpoint of a line whose parent is in an earlier part


def detect(content: Content) -> bool:
    first = content.first_value
    if not isinstance(first, dict) or not isinstance(first.get("type"), str):
        return False
    kind = first["type"]
    if isinstance(first.get("sessionId"), str) and ("uuid" in first or kind in SMALL_TYPES):
        return "parentUuid" in first or kind in SMALL_TYPES or "isSidechain" in first
    if kind == "summary":
        return "leafUuid" in first and "summary" in first
    return kind == "file-history-snapshot" and "messageId" in first and "snapshot" in first


def resumed_copies(values: list[tuple[int, Any]]) -> set[str]:
    """Uuids copied from the session this file resumes: the leaf named by a ``summary``
    before the first message, and its ancestors."""
    leaves: set[str] = set()
    parents: dict[str, Any] = {}
    for _, line in values:
        if not isinstance(line, dict):
            continue
        if line.get("type") == "summary" and not parents and isinstance(line.get("leafUuid"), str):
            leaves.add(line["leafUuid"])
        elif isinstance(line.get("uuid"), str):
            if not leaves:  # no summary before the first message: a file that resumes nothing
                return set()
            parents[line["uuid"]] = line.get("parentUuid")
    copies: set[str] = set()
    for leaf in leaves & parents.keys():
        node: Any = leaf
        while isinstance(node, str) and node in parents and node not in copies:
            copies.add(node)
            node = parents[node]
    return copies


def parse(content: Content) -> ParsedFile:
    parsed = ParsedFile(format=FORMAT_NAME)
    values = line_values(content)
    whole = content.first_line == 1
    named = AGENT_FILE.search(content.name)
    file_agent = named.group(1) if named and "/subagents/" in content.name.replace("\\", "/") else None
    copies = resumed_copies(values) if whole else set()
    runs: dict[str, SessionRun] = {}
    nearest: dict[str, str | None] = {}  # uuid -> the nearest checkpoint at or above it
    loose: list[tuple[int, dict[str, Any]]] = []  # lines of no session (titles, unknown types)
    titles: dict[str, str] = {}
    leaf: str | None = None
    for number, line in values:
        if not isinstance(line, dict):
            parsed.warnings.append(f"{content.name}:{number}: not a JSON object; skipped")
            continue
        kind, session = line.get("type"), line.get("sessionId")
        if kind in MESSAGE_TYPES and isinstance(session, str) and session:
            run = runs.get(session) or runs.setdefault(session, SessionRun(session, file_agent))
            uuid = line.get("uuid") if isinstance(line.get("uuid"), str) else None
            above = _above(line, nearest, whole)
            copied = uuid in copies
            checkpoint = None if copied else _checkpoint(run, line, uuid, above, parsed)
            if uuid:
                nearest[uuid] = None if copied else checkpoint or above
            run.read(number, line, counted=not copied)
        elif kind in ("custom-title", "ai-title") and isinstance(session, str):
            title = line.get("customTitle") or line.get("aiTitle") or line.get("title")
            if isinstance(title, str) and (kind == "custom-title" or session not in titles):
                titles[session] = title
        elif kind == "last-prompt" and isinstance(line.get("leafUuid"), str):
            leaf = line["leafUuid"]
        elif kind not in QUIET_TYPES and kind not in MESSAGE_TYPES:
            loose.append((number, line))
    home = max(runs.values(), key=lambda r: r.lines, default=None)
    for number, line in loose:
        owner = runs.get(line.get("sessionId")) if isinstance(line.get("sessionId"), str) else home
        if owner is not None:
            owner.keep_raw(number, line)
    for run in runs.values():
        record = run.record(whole, titles.get(run.session), leaf, nearest, copies)
        parsed.runs.append(record)
        parsed.events.extend(run.events())
        parsed.checkpoints.extend(run.checkpoints)
    if not whole and any(cp.parent_native_id == _UNKNOWN for cp in parsed.checkpoints):
        parsed.whole_file_needed = True  # a checkpoint's parent is in the part read before
    for cp in parsed.checkpoints:
        if cp.parent_native_id == _UNKNOWN:
            cp.parent_native_id = None
    return parsed


def _above(line: dict[str, Any], nearest: dict[str, str | None], whole: bool) -> str | None:
    """The nearest checkpoint above a line: its parent's (the logical parent across a
    compaction boundary)."""
    parent = line.get("logicalParentUuid") or line.get("parentUuid")
    if not isinstance(parent, str):
        return None
    if parent in nearest:
        return nearest[parent]
    return None if whole else _UNKNOWN


def _checkpoint(
    run: SessionRun, line: dict[str, Any], uuid: str | None, above: str | None, parsed: ParsedFile
) -> str | None:
    """The line's checkpoint (a prompt on the main chain, a compaction boundary), if it is one."""
    if uuid is None or line.get("isSidechain") or line.get("agentId") or run.file_agent:
        return None
    kind = line.get("type")
    if kind == "system" and line.get("subtype") == "compact_boundary":
        meta = line.get("compactMetadata") if isinstance(line.get("compactMetadata"), dict) else {}
        summary = (
            f"compaction ({meta.get('trigger') or 'unknown'} trigger, {meta.get('preTokens')} tokens before)"
        )
        attrs = {"kind": "compaction", **{k: meta[k] for k in ("trigger", "preTokens") if k in meta}}
    elif kind == "user" and (text := prompt_text(line)) is not None:
        summary, attrs = text, {"kind": "prompt"}
    else:
        return None
    run.checkpoints.append(
        CheckpointRecord(
            framework=FRAMEWORK,
            run_native_id=run.session,
            native_id=uuid,
            document=line,
            parent_native_id=above,
            agent_id="main",
            created_at=run.time(line),
            summary=summary,
            attributes=attrs,
        )
    )
    return uuid


FORMAT = FormatSpec(
    name=FORMAT_NAME,
    framework=FRAMEWORK,
    description="Claude Code session transcripts (~/.claude/projects/<project>/<sessionId>.jsonl, subagents)",
    detect=detect,
    parse=parse,
    append_only=True,
)

"""What a run's events and attributes say about the work, for the handoff brief: tool calls,
files changed, commits, the open todo list, the last error, and where to continue.

Pure functions over the plain event dicts ``core.resume.load.load_events`` returns, written
for every framework at once: they read the generic columns (kind, tool, error) and look for
well-known keys in payloads (a tool's ``input``/``args``, a ``file_path``, a ``cwd``), never
a framework's own layout. Todo lists come from Claude Code's ``TodoWrite`` tool (and the
like-shaped ``update_plan`` of Codex and ``write_todos`` of Gemini CLI): the latest call's
list, less what it marks completed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

TODO_TOOLS = {"todowrite": ("todos", "newTodos"), "update_plan": ("plan",), "write_todos": ("todos",)}
INPUT_KEYS = ("input", "args", "arguments", "tool_input", "input_data", "parameters", "params")
PATH_KEYS = ("file_path", "filePath", "notebook_path", "path", "filename", "absolute_path", "target_file")
COMMAND_KEYS = ("command", "cmd")
RESULT_KEYS = ("observation", "output", "result", "output_data", "tool_result", "toolUseResult", "content")
RESULT_CHARS = 160
EDITING_TOOL = re.compile(r"edit|write|patch|replace|create|delete|remove|move|rename", re.I)
PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.M)
GIT_COMMIT = re.compile(r"\bgit\b[^|;&\n]*\bcommit\b")
CWD_KEYS = ("cwd", "working_directory", "workdir", "work_dir", "project_dir", "project_root")
BRANCH_KEYS = ("git_branch", "gitBranch", "branch")
COMMIT_KEYS = ("commit_hash", "commit", "git_commit")
REPO_KEYS = ("repository_url", "repository", "repo_url")
HEX = re.compile(r"^[0-9a-f]{7,40}$")
SUMMARY_CHARS = 300
DEPTH = 5  # how deep to look for a tool's input in a payload


@dataclass
class Facts:
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    files_changed: list[dict[str, Any]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    todos: list[dict[str, Any]] = field(default_factory=list)  # the open ones
    todos_done: int = 0
    todos_from: dict[str, Any] | None = None
    last_error: dict[str, Any] | None = None
    errors: int = 0
    where: dict[str, Any] = field(default_factory=dict)


def _dicts(value: Any, depth: int = DEPTH) -> list[dict[str, Any]]:
    """``value`` and the objects inside it, breadth first, at most ``depth`` levels down."""
    found: list[dict[str, Any]] = []
    level = [value]
    for _ in range(depth):
        following: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                found.append(item)
                following += [v for v in item.values() if isinstance(v, dict | list)]
            elif isinstance(item, list):
                following += [v for v in item if isinstance(v, dict | list)]
        level = following
    return found


def tool_input(event: dict[str, Any]) -> Any:
    """The tool's input in the event's payload: the object whose ``name`` is the tool and
    that has an input key first (a Claude Code ``tool_use`` block), else the first input key
    found, else nothing."""
    tool = event.get("tool") or event.get("name")
    candidates = [d for d in _dicts(event.get("data")) if any(k in d for k in INPUT_KEYS)]
    named = [d for d in candidates if d.get("name") == tool or d.get("tool") == tool]
    for item in named + candidates:
        for key in INPUT_KEYS:
            if key in item and item[key] not in (None, {}, []):
                return item[key]
    return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def _short(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first(item: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(item, dict):
        for key in keys:
            value = item.get(key)
            if value not in (None, "", [], {}):
                return value
    return None


def input_summary(value: Any) -> str:
    """A shell command, else a path, else the input as compact JSON; at most 300 characters."""
    command = _first(value, COMMAND_KEYS)
    if command is not None:
        return _short(" ".join(map(str, command)) if isinstance(command, list) else _text(command))
    return _short("" if value is None else _text(value))


def _paths(tool: str, value: Any) -> list[str]:
    if not EDITING_TOOL.search(tool or ""):
        return []
    paths = [str(p) for p in [_first(value, PATH_KEYS)] if isinstance(p, str)]
    patch = value if isinstance(value, str) else _first(value, ("patch", "input", "diff"))
    if isinstance(patch, str):
        paths += PATCH_FILE.findall(patch)
    return paths


def _commit(value: Any) -> str | None:
    command = _first(value, COMMAND_KEYS)
    text = " ".join(map(str, command)) if isinstance(command, list) else command
    if isinstance(text, str) and GIT_COMMIT.search(text):
        return _short(text, 200)
    return None


def _attach_result(calls: list[dict[str, Any]], tool: str, event: dict[str, Any]) -> bool:
    """An event that holds a tool's output and no input is the result of the latest call of
    that tool still without one."""
    output = _first(event.get("data"), RESULT_KEYS)
    if output is None:
        return False
    for call in reversed(calls[-20:]):
        if call["tool"] == tool and "result" not in call:
            call["result"] = _short(_text(output), RESULT_CHARS)
            if event.get("error") and not call.get("error"):
                call["error"] = _short(str(event["error"]))
            return True
    return False


def _todo_list(event: dict[str, Any], keys: tuple[str, ...]) -> list[Any] | None:
    value = tool_input(event)
    for item in [value, *_dicts(event.get("data"))]:
        found = _first(item, keys)
        if isinstance(found, list):
            return found
    return None


def _todo(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"content": _text(item), "status": "pending"}
    text = _first(item, ("content", "step", "description", "text", "title", "activeForm"))
    return {
        "content": _text(text if text is not None else item),
        "status": str(item.get("status") or "pending"),
    }


def _where(sources: list[Any]) -> dict[str, Any]:
    """cwd, branch, commit and repository: the first source that names each (a ``git``
    object inside one counts)."""
    where: dict[str, Any] = {}
    for source in sources:
        for item in _dicts(source, 2):
            for name, keys in (
                ("cwd", CWD_KEYS),
                ("branch", BRANCH_KEYS),
                ("commit", COMMIT_KEYS),
                ("repository", REPO_KEYS),
            ):
                value = _first(item, keys)
                if name in where or not isinstance(value, str) or not value.strip():
                    continue
                if name == "commit" and not HEX.match(value):
                    continue
                where[name] = value
    return where


def gather(events: list[dict[str, Any]], run: dict[str, Any], checkpoint: dict[str, Any]) -> Facts:
    """The facts of a run's events (in time order) and its attributes."""
    facts = Facts()
    files: dict[str, dict[str, Any]] = {}
    todos: tuple[dict[str, Any], list[Any]] | None = None
    for event in events:
        tool = str(event.get("tool") or "")
        is_error = event.get("kind") == "error" or bool(event.get("error"))
        if is_error:
            facts.errors += 1
            facts.last_error = {
                key: event.get(key) for key in ("at", "kind", "name", "tool", "agent_id", "step")
            } | {"text": event.get("error") or event.get("name")}
        keys = TODO_TOOLS.get((tool or str(event.get("name") or "")).lower())
        if keys is not None:
            found = _todo_list(event, keys)
            if found is not None:
                todos = (event, found)
        if event.get("kind") != "tool_call":
            continue
        value = tool_input(event)
        if value is None and _attach_result(facts.tool_calls, tool or str(event.get("name") or ""), event):
            continue  # a tool's result event: shown with its call
        facts.tool_calls.append(
            {
                "at": event.get("at"),
                "agent": event.get("agent_id"),
                "tool": tool or event.get("name"),
                "input": input_summary(value),
                "error": _short(str(event["error"])) if event.get("error") else None,
            }
        )
        for path in _paths(tool or str(event.get("name") or ""), value):
            entry = files.pop(path, None) or {"path": path, "tools": {}, "last": None}
            entry["tools"][tool] = entry["tools"].get(tool, 0) + 1
            entry["last"] = event.get("at")
            files[path] = entry  # re-inserted: the list ends with the latest change
        commit = _commit(value)
        if commit is not None and commit not in facts.commits:
            facts.commits.append(commit)
    facts.files_changed = [
        {"path": e["path"], "tools": ", ".join(f"{t or 'tool'} ×{n}" for t, n in e["tools"].items())}
        for e in files.values()
    ]
    if todos is not None:
        event, items = todos
        listed = [_todo(item) for item in items]
        facts.todos = [t for t in listed if t["status"].lower() != "completed"]
        facts.todos_done = len(listed) - len(facts.todos)
        facts.todos_from = {"at": event.get("at"), "tool": event.get("tool") or event.get("name")}
    latest = [e.get("data") for e in reversed(events[-50:]) if isinstance(e.get("data"), dict)]
    facts.where = _where(
        [run.get("attributes"), checkpoint.get("attributes"), checkpoint.get("document"), *latest]
    )
    return facts

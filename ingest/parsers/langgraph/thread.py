"""One thread of one database as records: its run, every checkpoint of every namespace, and
the events its messages and writes tell (model calls, tool calls and results, errors,
interrupts).

Parents: ``parent_checkpoint_id`` within a namespace; the first checkpoint of a subgraph
namespace links to its parent graph's checkpoint (``metadata.parents``), so subgraphs nest.
Tokens are counted once per AI message id over every checkpoint and write (per checkpoint
would multiply: each repeats the whole list).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from core.records import CheckpointRecord, EventRecord, RunRecord
from core.resume.redact import redact
from core.timeutil import parse_timestamp
from ingest.parsers.langgraph import messages as lm
from ingest.parsers.langgraph.blobs import Decoder, Opaque, loads_metadata, uuid6_time_ns
from ingest.parsers.langgraph.status import interrupt_values, thread_status

FRAMEWORK = "langgraph"
# Keys LangGraph itself writes into ``metadata``; every other one was copied from the config.
OWN_METADATA = frozenset({"source", "step", "parents", "writes", "run_id", "thread_id", "checkpoint_ns"})
NOTE_KEY = "notes"


@lru_cache(maxsize=1024)
def _redacted_entry(key: str, value: Any) -> tuple[Any, bool]:
    out, report = redact({key: value})
    return out[key] if key in out else next(iter(out.values())), report.count > 0


def clean_metadata(metadata: Any) -> tuple[Any, list[str]]:
    """Config values LangGraph copied into the metadata, with secrets (API keys) redacted
    before they are stored: the dashboard and exports never see them."""
    if not isinstance(metadata, dict):
        return metadata, []
    hidden: list[str] = []
    out = dict(metadata)
    for key, value in metadata.items():
        if key in OWN_METADATA or not isinstance(value, str | int | float) or isinstance(value, bool):
            continue
        new, changed = _redacted_entry(str(key), value)
        if changed:
            out[key] = new
            hidden.append(str(key))
    return out, hidden


def _time(checkpoint: Any, checkpoint_id: str) -> datetime | None:
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("ts"), str):
        found = parse_timestamp(checkpoint["ts"])
        if found:
            return found
    ns = uuid6_time_ns(checkpoint_id)
    return datetime.fromtimestamp(ns / 1e9, UTC) if ns else None


@lru_cache(maxsize=1024)
def _node(task_path: str) -> str | None:
    """``"~__pregel_pull, agent"`` -> ``agent`` (3.x only)."""
    parts = [p.strip() for p in task_path.split(",")]
    return parts[1] if len(parts) >= 2 and parts[0] == "~__pregel_pull" else None


def _ran(parent: Any, child: Any, metadata: Any) -> list[str]:
    """Nodes that ran between a checkpoint's parent and itself: lgcs 1.0 names them in
    ``metadata.writes``; later versions show them as changed ``versions_seen`` entries."""
    if isinstance(metadata, dict) and isinstance(metadata.get("writes"), dict):
        return [str(n) for n in metadata["writes"]]
    if not isinstance(child, dict):
        return []
    seen = child.get("versions_seen") if isinstance(child.get("versions_seen"), dict) else {}
    before = (
        parent.get("versions_seen")
        if isinstance(parent, dict) and isinstance(parent.get("versions_seen"), dict)
        else {}
    )
    return [str(node) for node, versions in seen.items() if before.get(node) != versions]


def _agent_name(nodes: Iterable[str], namespace: str) -> str | None:
    names = [n for n in nodes if n and not n.startswith("__")]  # __start__, __interrupt__, ...
    if not names:
        return None
    prefix = "/".join(part.split(":", 1)[0] for part in namespace.split("|")) if namespace else ""
    name = "+".join(names)
    return f"{prefix}/{name}" if prefix else name


@lru_cache(maxsize=4096)
def _node_agent(node: str, namespace: str) -> str | None:
    """``_agent_name([node], namespace)``: asked for every node of every checkpoint and
    write, of a few names."""
    return _agent_name([node], namespace)


class ThreadBuilder:
    """Accumulates one thread's rows; ``build()`` returns its records."""

    def __init__(self, run_id: str, thread_id: str, path: str) -> None:
        self.run_id = run_id
        self.thread_id = thread_id
        self.path = path
        self.checkpoints: list[CheckpointRecord] = []
        self.events: list[EventRecord] = []
        self.warnings: list[str] = []
        self.agents: list[str] = []
        self._seen_messages: set[str] = set()
        # Values ``_messages`` looked at, by identity (each kept alive here, so no id is
        # reused): the Decoder shares a message met again, and a message looked at once
        # has its id in _seen_messages, so looking at it again would do nothing.
        self._looked_at: dict[int, Any] = {}
        self._calls: dict[str, dict[str, Any]] = {}  # tool call id -> the call, for its result
        self._task: str | None = None
        self._models: list[str] = []
        self._decoded: dict[tuple[str, str], Any] = {}
        self._decoder = Decoder()

    # ── messages to events ──────────────────────────────────────────────────────────────
    def _message(self, message: dict[str, Any], at: datetime | None, agent: str | None) -> None:
        mid = message.get("id")
        kind = message.get("type")
        if not isinstance(mid, str) or mid in self._seen_messages:
            return
        self._seen_messages.add(mid)
        if kind == "human" and self._task is None:
            self._task = lm.text_of(message) or None
        elif kind == "ai":
            self._ai(mid, message, at, agent)
        elif kind == "tool":
            call = self._calls.get(str(message.get("tool_call_id")), {})
            failed = message.get("status") == "error"
            self.events.append(
                EventRecord(
                    framework=FRAMEWORK,
                    run_native_id=self.run_id,
                    native_id=f"tool-result:{mid}",
                    parent_native_id=f"tool-call:{call['id']}" if call.get("id") else None,
                    kind="tool_call",
                    name="tool_message",
                    at=at,
                    agent_id=agent,
                    tool=message.get("name") or call.get("name"),
                    error=lm.text_of(message) if failed else None,
                    data={
                        "tool_call_id": message.get("tool_call_id"),
                        "status": message.get("status") or "success",
                        "content": lm.text_of(message)[:2000],
                    },
                )
            )

    def _ai(self, mid: str, message: dict[str, Any], at: datetime | None, node: str | None) -> None:
        inp, out, read, write = lm.usage_of(message)
        model = lm.model_of(message)
        agent = message.get("name") if isinstance(message.get("name"), str) and message.get("name") else node
        if agent and agent not in self.agents:
            self.agents.append(agent)
        if model and model not in self._models:
            self._models.append(model)
        calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
        meta = message.get("response_metadata") if isinstance(message.get("response_metadata"), dict) else {}
        self.events.append(
            EventRecord(
                framework=FRAMEWORK,
                run_native_id=self.run_id,
                native_id=f"ai:{mid}",
                kind="llm_call",
                name="ai_message",
                at=at,
                agent_id=agent,
                model=model,
                input_tokens=inp,
                output_tokens=out,
                cache_read_tokens=read,
                cache_write_tokens=write,
                data={
                    "message_id": mid,
                    "provider": meta.get("model_provider"),
                    "finish_reason": meta.get("finish_reason") or meta.get("stop_reason"),
                    "content": lm.text_of(message)[:2000],
                    "tool_calls": [c.get("name") for c in calls],
                },
            )
        )
        for call in calls:
            call_id = str(call.get("id") or f"{mid}:{len(self._calls)}")
            self._calls[call_id] = {"id": call_id, "name": call.get("name")}
            self.events.append(
                EventRecord(
                    framework=FRAMEWORK,
                    run_native_id=self.run_id,
                    native_id=f"tool-call:{call_id}",
                    parent_native_id=f"ai:{mid}",
                    kind="tool_call",
                    name="tool_call",
                    at=at,
                    agent_id=agent,
                    tool=call.get("name"),
                    data={"tool_call_id": call_id, "args": call.get("args")},
                )
            )

    def _messages(self, value: Any, at: datetime | None, agent: str | None) -> None:
        looked_at = self._looked_at
        for item in lm.message_items(value):
            key = id(item)
            if key in looked_at:
                continue
            looked_at[key] = item
            message = lm.as_message(item)
            if message is not None:
                self._message(message, at, agent)

    # ── rows ────────────────────────────────────────────────────────────────────────────
    def add_namespace(
        self, namespace: str, rows: list[tuple[Any, ...]], writes: dict[str, list[tuple[Any, ...]]]
    ) -> None:
        """The checkpoint rows of one namespace, oldest id first, and their writes by
        checkpoint id (write rows in WRITE_SELECT order, rowid first)."""
        decoded_by_id: dict[str, Any] = {}
        later: list[
            tuple[Any, datetime | None, str | None]
        ] = []  # messages of writes, after the checkpoints'
        for row in rows:
            _, _, _, cid, parent, type_, blob, meta_blob = row
            checkpoint = self._decoder.decode(type_, blob)
            metadata, hidden = clean_metadata(loads_metadata(meta_blob))
            decoded_by_id[cid] = checkpoint
            notes = []
            if isinstance(checkpoint, Opaque):
                notes.append(f"checkpoint blob not decoded: {checkpoint.reason}")
            at = _time(checkpoint, cid)
            parent_cp = decoded_by_id.get(parent) if parent else None
            nodes = _ran(parent_cp, checkpoint, metadata)
            agent = _agent_name(nodes, namespace)
            for node in nodes:
                name = _node_agent(node, namespace)
                if name and name not in self.agents:
                    self.agents.append(name)
            own_writes = []  # the writes as stored in the document
            raws = []  # their values as decoded (an Opaque, not its dict)
            for w in writes.get(cid, ()):
                _, _, _, _, task_id, task_path, idx, channel, wtype, wblob = w
                value = self._decoder.decode(wtype, wblob)
                if isinstance(value, Opaque):
                    notes.append(f"write {channel} of task {task_id} not decoded: {value.reason}")
                own_writes.append(
                    {
                        "task_id": task_id,
                        "task_path": task_path,
                        "idx": idx,
                        "channel": channel,
                        "type": wtype,
                        "value": value.as_dict() if isinstance(value, Opaque) else value,
                    }
                )
                raws.append(value)
            parent_id = parent
            attributes: dict[str, Any] = {"checkpoint_ns": namespace} if namespace else {}
            if (
                not parent
                and namespace
                and isinstance(metadata, dict)
                and isinstance(metadata.get("parents"), dict)
            ):
                enclosing = namespace.rsplit("|", 1)[0] if "|" in namespace else ""
                parent_id = metadata["parents"].get(enclosing)
                attributes["parent_link"] = "subgraph of its parent namespace"
            if isinstance(metadata, dict):
                attributes["source"] = metadata.get("source")
            if hidden:
                attributes["redacted_metadata"] = hidden
            self._messages_of(checkpoint, metadata, at, agent)
            status = None
            error = None
            for w, raw in zip(own_writes, raws, strict=True):
                task_agent = _node_agent(_node(w["task_path"] or "") or "", namespace) or None
                self._write_events(cid, w, raw, at, task_agent, later)
                if w["channel"] == "__error__":
                    status, error = "failed", w["value"] if isinstance(w["value"], str) else repr(w["value"])
            channels = {w["channel"] for w in own_writes}
            if status is None and "__interrupt__" in channels and "__resume__" not in channels:
                status = "waiting"
            document = {
                "thread_id": self.thread_id,
                "checkpoint_ns": namespace,
                "checkpoint_id": cid,
                "parent_checkpoint_id": parent,
                "type": type_,
                "checkpoint": checkpoint.as_dict() if isinstance(checkpoint, Opaque) else checkpoint,
                "metadata": metadata.as_dict() if isinstance(metadata, Opaque) else metadata,
                "writes": own_writes,
            }
            if notes:
                document[NOTE_KEY] = notes
            self.checkpoints.append(
                CheckpointRecord(
                    framework=FRAMEWORK,
                    run_native_id=self.run_id,
                    native_id=cid if not namespace else f"{namespace}#{cid}",
                    parent_native_id=(
                        parent_id if not namespace or not parent else f"{namespace}#{parent_id}"
                    )
                    if parent_id
                    else None,
                    document=document,
                    agent_id=agent,
                    status=status,
                    step=metadata.get("step")
                    if isinstance(metadata, dict) and isinstance(metadata.get("step"), int)
                    else None,
                    created_at=at,
                    failure_reason=error,
                    summary=self._summary(checkpoint),
                    attributes=attributes,
                )
            )
            self._decoded[(namespace, cid)] = (
                checkpoint,
                [(w["channel"], raw) for w, raw in zip(own_writes, raws, strict=True)],
            )
        # A write holds the update of the step after its checkpoint; the checkpoint after it
        # names the node that made it, so writes' messages are taken last (only the ones no
        # checkpoint holds: a failed step's, a trimmed history's, a pending step's).
        for value, at, agent in later:
            self._messages(value, at, agent)

    def _messages_of(self, checkpoint: Any, metadata: Any, at: datetime | None, agent: str | None) -> None:
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get("channel_values"), dict):
            for key, value in checkpoint["channel_values"].items():
                if isinstance(value, list | dict) and not str(key).startswith(("branch:", "__")):
                    self._messages(value, at, agent)
        if isinstance(metadata, dict) and isinstance(metadata.get("writes"), dict):  # lgcs 1.0
            for node, update in metadata["writes"].items():
                self._messages(update, at, str(node))

    def _write_events(
        self,
        cid: str,
        write: dict[str, Any],
        value: Any,
        at: datetime | None,
        agent: str | None,
        later: list[Any],
    ) -> None:
        channel = write["channel"]
        base = {"framework": FRAMEWORK, "run_native_id": self.run_id, "at": at, "agent_id": agent}
        key = f"{cid}:{write['task_id']}:{write['idx']}"
        if channel == "__error__":
            text = value if isinstance(value, str) else repr(value)
            self.events.append(
                EventRecord(
                    kind="error",
                    name="__error__",
                    native_id=f"error:{key}",
                    error=text,
                    data={"task_id": write["task_id"]},
                    **base,
                )
            )
        elif channel == "__interrupt__":
            self.events.append(
                EventRecord(
                    kind="lifecycle",
                    name="interrupt",
                    native_id=f"interrupt:{key}",
                    data={"asked": interrupt_values(value)},
                    **base,
                )
            )
        elif channel == "__resume__":
            self.events.append(
                EventRecord(
                    kind="lifecycle", name="resume", native_id=f"resume:{key}", data={"value": value}, **base
                )
            )
        elif not channel.startswith(("branch:", "__")) and not isinstance(value, Opaque):
            later.append((value, at, agent))

    @staticmethod
    def _summary(checkpoint: Any) -> str | None:
        if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("channel_values"), dict):
            return None
        last = lm.last_message(checkpoint["channel_values"].get("messages"))
        if last is None:
            return None
        return f"{last.get('type')}: {lm.text_of(last)[:200]}"

    def build(self) -> RunRecord:
        roots = [(cid, cp) for (ns, cid), cp in self._decoded.items() if ns == ""]
        run = RunRecord(framework=FRAMEWORK, native_id=self.run_id, task=self._task, agents=list(self.agents))
        times = [c.created_at for c in self.checkpoints if c.created_at]
        run.started_at, run.ended_at = (min(times), max(times)) if times else (None, None)
        run.attributes = {"thread_id": self.thread_id, "database": self.path}
        if self._models:
            run.attributes["models"] = self._models
            if len(self._models) == 1:
                run.attributes["model"] = self._models[0]
        if not roots:
            run.status = "unknown"
            run.inferred = ["status"]
            run.attributes["status_basis"] = "no checkpoint in the root namespace"
            return run
        cid, (checkpoint, writes) = max(roots, key=lambda item: item[0])
        version = checkpoint.get("v") if isinstance(checkpoint, dict) else None
        verdict = thread_status(checkpoint, version, writes)
        run.status = verdict.status
        run.attributes["status_basis"] = verdict.basis
        run.attributes["latest_checkpoint_id"] = cid
        if verdict.inferred:
            run.inferred = ["status"]
        if verdict.reason is not None:
            run.failure_reason = verdict.reason
            run.failure_signals = {
                "error": verdict.reason,
                "exception": verdict.reason.split("(", 1)[0].strip(),
            }
        if verdict.status == "waiting":
            run.attributes["interrupt"] = verdict.question
        if verdict.next_nodes:
            run.attributes["next"] = list(verdict.next_nodes)
        return run

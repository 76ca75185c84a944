"""LangGraph's own way to continue a thread: the Python a LangGraph user runs, in their
program, with their compiled graph and a checkpointer on the same database, to go on from
exactly the chosen checkpoint (``thread_id``, ``checkpoint_ns``, ``checkpoint_id``).

* an interrupt waiting there: ``graph.invoke(Command(resume=answer), config)`` (lgcs 1.0,
  before ``interrupt()``: ``update_state`` with the answer, then ``invoke(None, config)``);
* any other checkpoint: ``graph.invoke(None, config)`` runs what it scheduled (a failed or
  stopped task again; from an older checkpoint, a new branch), and the fork form,
  ``update_state(config, values)`` then ``invoke(None, new_config)``, edits the state there
  first.
The export is a small JSON document (config, database, what to call) and the script is its
command. A subgraph checkpoint resumes through its root-namespace checkpoint.
"""

from __future__ import annotations

import json
from typing import Any

from core.resume.mappers import UnmappableCheckpoint
from core.resume.mappers.langgraph import pending_interrupt, scheduled_nodes
from core.resume.native import NativeExport, literal
from core.resume.options import ExportOptions
from core.resume.outbox import safe_name
from core.resume.redact import RedactionReport, redact
from core.resume.source import ResumeSource


def _root_checkpoint(doc: dict[str, Any]) -> tuple[str, list[str]]:
    namespace, cid = str(doc.get("checkpoint_ns") or ""), str(doc.get("checkpoint_id") or "")
    if not namespace:
        return cid, []
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    parents = metadata.get("parents") if isinstance(metadata.get("parents"), dict) else {}
    root = parents.get("")
    if not isinstance(root, str):
        raise UnmappableCheckpoint(
            f"checkpoint {cid} is in subgraph namespace {namespace!r} and names no root checkpoint to resume from"
        )
    return root, [
        f"checkpoint {cid} is in subgraph {namespace!r}: resuming its root-namespace checkpoint {root}"
    ]


def script(database: str, config: dict[str, Any], action: str, question: Any, legacy: bool) -> str:
    """The Python to run; names the user provides: ``builder`` (their StateGraph) and, for an
    interrupt, ``answer``."""
    lines = [
        f"# Continue LangGraph thread {config['configurable']['thread_id']!r} from checkpoint "
        f"{config['configurable']['checkpoint_id']} of {database}.",
        "# Run it in your program: `builder` is the StateGraph that wrote this thread (not compiled).",
        "from langgraph.checkpoint.sqlite import SqliteSaver",
    ]
    if action == "answer" and not legacy:
        lines.append("from langgraph.types import Command")
    lines += [
        f"config = {json.dumps(config, ensure_ascii=False)}",
        f"with SqliteSaver.from_conn_string({database!r}) as saver:",
        "    graph = builder.compile(checkpointer=saver)",
    ]
    if action == "answer":
        lines.append(f"    # The graph asked: {json.dumps(question, ensure_ascii=False, default=str)}")
        lines.append("    # `answer` is your reply to it.")
        if legacy:  # lgcs 1.0: NodeInterrupt; the node reads the answer from the state
            lines += [
                "    config = graph.update_state(config, {'approval': answer})  # the state key your node reads",
                "    result = graph.invoke(None, config)",
            ]
        else:
            lines.append("    result = graph.invoke(Command(resume=answer), config)")
    else:
        lines += [
            "    result = graph.invoke(None, config)  # runs what this checkpoint scheduled, from exactly here",
            "    # To fork instead, edit the state at this checkpoint and continue from the copy:",
            "    # new_config = graph.update_state(config, {'messages': [...]})",
            "    # result = graph.invoke(None, new_config)",
        ]
    return "\n".join(lines) + "\n"


def build_native_langgraph(source: ResumeSource, options: ExportOptions | None = None) -> NativeExport:
    options = options or ExportOptions(format="langgraph")
    doc = source.document
    if source.framework != "langgraph":
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']} is from {source.framework}, not langgraph: use the acf format"
        )
    if not isinstance(doc, dict) or not doc.get("thread_id") or not doc.get("checkpoint_id"):
        raise UnmappableCheckpoint(
            f"checkpoint {source.checkpoint['id']}: the stored document has no thread_id/checkpoint_id"
        )
    database = str(
        source.checkpoint.get("source_path") or (source.run.get("attributes") or {}).get("database") or ""
    )
    checkpoint_id, notes = _root_checkpoint(doc)
    config = {
        "configurable": {
            "thread_id": str(doc["thread_id"]),
            "checkpoint_ns": "",
            "checkpoint_id": checkpoint_id,
        }
    }
    question = pending_interrupt(doc)
    checkpoint = doc.get("checkpoint") if isinstance(doc.get("checkpoint"), dict) else {}
    legacy = checkpoint.get("v") == 1
    action = "answer" if question is not None else "invoke"
    out: dict[str, Any] = {
        "framework": "langgraph",
        "database": database,
        "config": config,
        "action": "invoke(Command(resume=answer), config)"
        if action == "answer" and not legacy
        else (
            "update_state(config, answer) then invoke(None, config)"
            if action == "answer"
            else "invoke(None, config)"
        ),
        "fork": "update_state(config, values) then invoke(None, new_config)",
        "scheduled": scheduled_nodes(doc),
    }
    if question is not None:
        out["interrupt"] = question
    report = RedactionReport(enabled=options.redact)
    if options.redact:
        out, report = redact(out, report)
    code = script(database, config, action, out.get("interrupt"), legacy)
    out["python"] = code
    return NativeExport(
        format="langgraph",
        document=out,
        relative_parts=(safe_name(str(doc["thread_id"])), f"{safe_name(checkpoint_id)}.json"),
        document_id=checkpoint_id,
        redaction=report,
        notes=notes,
        command_template=literal(code),
    )

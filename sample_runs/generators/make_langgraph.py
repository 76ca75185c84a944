"""Drive the real langgraph + langgraph-checkpoint-sqlite and keep the databases they write.

Run with the python of a venv holding one langgraph-checkpoint-sqlite generation
(``python tests/framework_envs.py`` / ``tests.framework_envs.langgraph_python("3.1.2")``)::

    <venv python> sample_runs/generators/make_langgraph.py --out DIR

Output goes to ``DIR/lgcs-<version>/``:

* ``checkpoints.sqlite``: one thread per scenario (SqliteSaver; the supervisor through
  AsyncSqliteSaver): ``tool-loop`` (a ReAct loop with token usage, a failed tool call retried,
  an API key in the config, so in every checkpoint's metadata), ``waiting`` (an interrupt left
  unanswered), ``resumed`` (the same, answered), ``node-error`` (a tool node raising),
  ``fork`` (``update_state`` on an older checkpoint, then continued), ``subgraph`` (a compiled
  graph as a node), ``supervisor`` (handoffs between two agents; ``Command(goto=...)`` where the
  version has it, conditional edges before)
* ``long.sqlite``: thread ``1``, a chat of 100 turns (about 300 checkpoints) that trims its
  history to the last 6 messages
* ``live.sqlite`` + ``live.sqlite-wal``: thread ``1`` written by a process killed while it
  had the database open: the first turn is in the main file, the rest only in the ``-wal``
* ``pickled.sqlite`` (langgraph-checkpoint 2+): ``pickle_fallback=True`` and a value msgpack
  cannot encode, so some blobs are ``pickle``

The chat model is scripted: plain nodes return ``AIMessage``s with fixed ids, usage and model
names (no network). Timestamps are the generation's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage, ToolMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

VERSION = importlib.metadata.version("langgraph-checkpoint-sqlite")
MAJOR = int(VERSION.split(".")[0])
try:  # langgraph >= 0.2.57
    from langgraph.types import Command, interrupt
except ImportError:  # the 2024 generation: NodeInterrupt, no Command
    Command = interrupt = None  # type: ignore[assignment,misc]

GPT = {"model_name": "gpt-4o-mini-2024-07-18", "model_provider": "openai"}
CLAUDE = {
    "model_name": "claude-sonnet-4-20250514",
    "model": "claude-sonnet-4-20250514",
    "model_provider": "anthropic",
}
FAKE_KEY = "sk-proj-" + "Zq3xV8mN2pL5rT9wK4yB7cF1hJ6dG0sA"  # made up; shaped like an OpenAI project key


class State(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    approval: str
    artifact: Any


def ai(
    mid: str,
    text: str = "",
    calls: list[dict[str, Any]] | None = None,
    meta: dict[str, Any] = GPT,
    **usage: Any,
) -> AIMessage:
    tokens = {"input_tokens": usage.get("inp", 100), "output_tokens": usage.get("out", 20)}
    tokens["total_tokens"] = tokens["input_tokens"] + tokens["output_tokens"]
    details = {k: usage[k] for k in ("cache_read", "cache_creation") if k in usage}
    if details:
        tokens["input_token_details"] = details
    finish = "tool_calls" if calls else "stop"
    return AIMessage(
        content=text,
        id=mid,
        name=usage.get("name"),
        tool_calls=[
            {"name": c["name"], "args": c["args"], "id": c["id"], "type": "tool_call"} for c in calls or []
        ],
        usage_metadata=tokens,
        response_metadata={**meta, "finish_reason": finish},
    )


def scripted(replies: list[AIMessage]):
    """A chat model as a plain node: the n-th AI reply of the thread is ``replies[n]``."""

    def agent(state: State) -> dict[str, Any]:
        done = sum(1 for m in state["messages"] if isinstance(m, AIMessage))
        return {"messages": [replies[min(done, len(replies) - 1)]]}

    return agent


TOOL_RESULTS = {
    "get_shipping_status": lambda order: {"order": order, "status": "in transit", "eta": "2026-12-05"},
    "lookup_customer": lambda order: {"customer": "C-77", "tier": "gold"},
}


def tools_node(fail_first: str | None = None, raise_error: bool = False):
    failed: set[str] = set()

    def tools(state: State) -> dict[str, Any]:
        out = []
        for call in state["messages"][-1].tool_calls:
            if raise_error:
                raise ConnectionError(
                    "GET https://api.shipping.example/orders/A-1001: upstream returned 503 Service Unavailable"
                )
            if call["name"] == fail_first and call["name"] not in failed:
                failed.add(call["name"])
                out.append(
                    ToolMessage(
                        content="Error: TimeoutError('lookup_customer timed out after 10s')",
                        tool_call_id=call["id"],
                        name=call["name"],
                        status="error",
                    )
                )
                continue
            result = TOOL_RESULTS[call["name"]](**call["args"])
            out.append(ToolMessage(content=json.dumps(result), tool_call_id=call["id"], name=call["name"]))
        return {"messages": out}

    return tools


def route(state: State) -> str:
    return "tools" if getattr(state["messages"][-1], "tool_calls", None) else END


def tool_loop_graph(replies: list[AIMessage], **tool_options: Any) -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("agent", scripted(replies))
    builder.add_node("tools", tools_node(**tool_options))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder


def tool_loop_replies(prefix: str) -> list[AIMessage]:
    return [
        ai(
            f"{prefix}-1",
            "",
            [{"name": "lookup_customer", "args": {"order": "A-1001"}, "id": f"{prefix}-call-1"}],
            inp=564,
            out=52,
            cache_read=384,
        ),
        ai(
            f"{prefix}-2",
            "",
            [{"name": "lookup_customer", "args": {"order": "A-1001"}, "id": f"{prefix}-call-2"}],
            inp=640,
            out=40,
            cache_read=512,
        ),
        ai(
            f"{prefix}-3",
            "",
            [{"name": "get_shipping_status", "args": {"order": "A-1001"}, "id": f"{prefix}-call-3"}],
            inp=720,
            out=38,
            cache_read=512,
        ),
        ai(
            f"{prefix}-4", "Order A-1001 is in transit, arriving 2026-12-05.", inp=810, out=24, cache_read=640
        ),
    ]


def ask(text: str, mid: str) -> dict[str, Any]:
    return {"messages": [HumanMessage(content=text, id=mid)]}


# ── scenarios on checkpoints.sqlite ─────────────────────────────────────────────────────


def run_tool_loop(saver: SqliteSaver) -> None:
    graph = tool_loop_graph(tool_loop_replies("tl"), fail_first="lookup_customer").compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "tool-loop", "openai_api_key": FAKE_KEY, "user": "dana"}}
    graph.invoke(ask("Where is my order A-1001?", "tl-h1"), cfg)


def approval_graph() -> StateGraph:
    def draft(state: State) -> dict[str, Any]:
        return {"messages": [ai("ap-1", "I can refund $120 for order A-1001.", inp=300, out=30)]}

    def approve(state: State) -> dict[str, Any]:
        question = {"question": "Refund $120 to order A-1001?", "amount": 120}
        if interrupt is not None:
            answer = interrupt(question)
        else:  # langgraph 0.2.2x: a NodeInterrupt; resumed by update_state + invoke(None)
            from langgraph.errors import NodeInterrupt

            answer = state.get("approval")
            if not answer:
                raise NodeInterrupt(question)
        return {"approval": str(answer)}

    def refund(state: State) -> dict[str, Any]:
        return {"messages": [ai("ap-2", f"Refund {state['approval']}: $120 sent.", inp=350, out=12)]}

    builder = StateGraph(State)
    builder.add_node("draft", draft)
    builder.add_node("approve", approve)
    builder.add_node("refund", refund)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "approve")
    builder.add_edge("approve", "refund")
    builder.add_edge("refund", END)
    return builder


def run_waiting_and_resumed(saver: SqliteSaver) -> None:
    graph = approval_graph().compile(checkpointer=saver)
    for thread in ("waiting", "resumed"):
        graph.invoke(
            ask("Please refund order A-1001.", f"{thread}-h1"), {"configurable": {"thread_id": thread}}
        )
    cfg = {"configurable": {"thread_id": "resumed"}}
    if Command is not None:
        graph.invoke(Command(resume="approved"), cfg)
    else:
        graph.update_state(cfg, {"approval": "approved"})
        graph.invoke(None, cfg)


def run_node_error(saver: SqliteSaver) -> None:
    graph = tool_loop_graph(tool_loop_replies("ne"), raise_error=True).compile(checkpointer=saver)
    with contextlib.suppress(ConnectionError):  # raised out of invoke(); the error write stays
        graph.invoke(ask("Where is my order A-1001?", "ne-h1"), {"configurable": {"thread_id": "node-error"}})


def run_fork(saver: SqliteSaver) -> None:
    replies = tool_loop_replies("fk")[2:]  # asks for the shipping status, then answers
    graph = tool_loop_graph(replies).compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "fork"}}
    graph.invoke(ask("Where is my order A-1001?", "fk-h1"), cfg)
    asked = next(s for s in graph.get_state_history(cfg) if s.next == ("tools",))
    edited = ai(
        "fk-1",
        "",
        [{"name": "get_shipping_status", "args": {"order": "A-1002"}, "id": "fk-call-9"}],
        inp=720,
        out=38,
        cache_read=512,
    )
    new_cfg = graph.update_state(asked.config, {"messages": [edited]}, as_node="agent")
    graph.invoke(None, new_cfg)


def run_subgraph(saver: SqliteSaver) -> None:
    inner = StateGraph(State)
    inner.add_node(
        "search",
        lambda s: {"messages": [ai("sg-1", "Found 3 papers on solid-state batteries.", inp=400, out=60)]},
    )
    inner.add_node(
        "summarize", lambda s: {"messages": [ai("sg-2", "Summary: energy density up 40%.", inp=500, out=45)]}
    )
    inner.add_edge(START, "search")
    inner.add_edge("search", "summarize")
    inner.add_edge("summarize", END)
    outer = StateGraph(State)
    outer.add_node("research", inner.compile())
    outer.add_node(
        "write",
        lambda s: {
            "messages": [ai("sg-3", "Report: solid-state batteries are 40% denser.", inp=600, out=80)]
        },
    )
    outer.add_edge(START, "research")
    outer.add_edge("research", "write")
    outer.add_edge("write", END)
    graph = outer.compile(checkpointer=saver)
    graph.invoke(
        ask("Write a short report on solid-state batteries.", "sg-h1"),
        {"configurable": {"thread_id": "subgraph"}},
    )


def supervisor_graph() -> StateGraph:
    plan = ["researcher", "writer", END]

    def turns(state: State) -> int:
        return sum(1 for m in state["messages"] if isinstance(m, AIMessage) and m.name == "supervisor")

    def supervisor(state: State) -> Any:
        n = turns(state)
        nxt = plan[min(n, len(plan) - 1)]
        msg = ai(
            f"sv-s{n}",
            f"handing off to {nxt}",
            meta=CLAUDE,
            inp=900,
            out=15,
            cache_read=600,
            cache_creation=200,
            name="supervisor",
        )
        if Command is not None:
            return Command(goto=nxt, update={"messages": [msg]})
        return {"messages": [msg]}

    def researcher(state: State) -> Any:
        msg = ai(
            "sv-r",
            "Battery density rose 40% in 2026 trials.",
            meta=CLAUDE,
            inp=1200,
            out=90,
            cache_read=800,
            name="researcher",
        )
        return Command(goto="supervisor", update={"messages": [msg]}) if Command else {"messages": [msg]}

    def writer(state: State) -> Any:
        msg = ai(
            "sv-w",
            "Draft: denser batteries arrive.",
            meta=CLAUDE,
            inp=1500,
            out=200,
            cache_read=1000,
            name="writer",
        )
        return Command(goto="supervisor", update={"messages": [msg]}) if Command else {"messages": [msg]}

    builder = StateGraph(State)
    builder.add_edge(START, "supervisor")
    if Command is not None:
        builder.add_node("supervisor", supervisor, destinations=("researcher", "writer", END))
        builder.add_node("researcher", researcher, destinations=("supervisor",))
        builder.add_node("writer", writer, destinations=("supervisor",))
    else:
        builder.add_node("supervisor", supervisor)
        builder.add_node("researcher", researcher)
        builder.add_node("writer", writer)
        builder.add_conditional_edges(
            "supervisor", lambda s: plan[min(turns(s) - 1, len(plan) - 1)], ["researcher", "writer", END]
        )
        builder.add_edge("researcher", "supervisor")
        builder.add_edge("writer", "supervisor")
    return builder


async def run_supervisor_async(path: Path) -> None:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        graph = supervisor_graph().compile(checkpointer=saver)
        await graph.ainvoke(
            ask("Research and write a note on batteries.", "sv-h1"),
            {"configurable": {"thread_id": "supervisor"}},
        )


# ── the other files ──────────────────────────────────────────────────────────────────────


def chat_graph(prefix: str, keep: int = 0) -> StateGraph:
    """One model node; with ``keep``, it trims the history to the last ``keep`` messages
    (``RemoveMessage``), as long chats do: earlier replies leave the checkpoints."""

    def agent(state: State) -> dict[str, Any]:
        n = int(str(state["messages"][-1].id).rsplit("h", 1)[-1])  # the question's number
        reply = ai(f"{prefix}-{n}", f"answer {n}", inp=200 + 10 * n, out=20)
        old = state["messages"][:-keep] if keep and len(state["messages"]) > keep else []
        return {"messages": [RemoveMessage(id=m.id) for m in old] + [reply]}

    builder = StateGraph(State)
    builder.add_node("agent", agent)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", END)
    return builder


def make_long(path: Path, turns: int = 100) -> None:
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = chat_graph("lg", keep=6).compile(checkpointer=saver)
        for n in range(turns):
            graph.invoke(ask(f"question {n + 1}", f"lg-h{n + 1}"), {"configurable": {"thread_id": "1"}})


def live_child(path: Path) -> None:
    """Write a few turns with WAL autocheckpoint off, fold only the first into the main file,
    then wait to be killed with the database still open."""
    conn = sqlite3.connect(str(path), check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    conn.execute("PRAGMA wal_autocheckpoint=0")
    graph = chat_graph("lv").compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "1"}}
    graph.invoke(ask("first question", "lv-h1"), cfg)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for n in range(2, 5):
        graph.invoke(ask(f"question {n}", f"lv-h{n}"), cfg)
    print("ready", flush=True)
    time.sleep(600)


def make_live(path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, __file__, "--live-child", str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    Path(f"{path}-shm").unlink(missing_ok=True)  # rebuilt by any reader; the log is what matters


class Opaque:
    """A value msgpack cannot encode: with pickle_fallback the saver pickles it."""

    def __init__(self, label: str) -> None:
        self.label = label


def make_pickled(path: Path) -> None:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    def agent(state: State) -> dict[str, Any]:
        return {
            "messages": [ai("pk-1", "Stored the artifact.", inp=250, out=18)],
            "artifact": Opaque("report"),
        }

    builder = StateGraph(State)
    builder.add_node("agent", agent)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", END)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    saver = SqliteSaver(conn, serde=JsonPlusSerializer(pickle_fallback=True))
    graph = builder.compile(checkpointer=saver)
    graph.invoke(ask("Make the artifact.", "pk-h1"), {"configurable": {"thread_id": "pickled"}})
    conn.close()


def make_all(out: Path) -> Path:
    folder = out / f"lgcs-{VERSION}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    main = folder / "checkpoints.sqlite"
    with SqliteSaver.from_conn_string(str(main)) as saver:
        run_tool_loop(saver)
        run_waiting_and_resumed(saver)
        run_node_error(saver)
        run_fork(saver)
        run_subgraph(saver)
    asyncio.run(run_supervisor_async(main))
    make_long(folder / "long.sqlite")
    make_live(folder / "live.sqlite")
    if MAJOR >= 2:
        make_pickled(folder / "pickled.sqlite")
    for side in folder.glob("*-shm"):
        side.unlink()
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    parser.add_argument("--live-child", type=Path)
    args = parser.parse_args()
    if args.live_child:
        live_child(args.live_child)
        return
    print(make_all(args.out))


if __name__ == "__main__":
    os.environ.setdefault("LANGCHAIN_TRACING_V2", "false")
    main()

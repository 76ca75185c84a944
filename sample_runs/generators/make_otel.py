"""Write OTLP/JSON trace files with the real OpenTelemetry SDK and real instrumentations.

    python sample_runs/generators/make_otel.py --out sample_runs/otel                  # SDK + LangChain instrumentations
    $(python tests/framework_envs.py react-agent-harness 0.14.0 $OTEL) sample_runs/generators/make_otel.py \\
        --out sample_runs/otel --emitter harness
    $(python tests/framework_envs.py techrevati-runtime 0.4.0 $OTEL) sample_runs/generators/make_otel.py \\
        --out sample_runs/otel --emitter techrevati

(``$OTEL`` = ``tests.framework_envs.OTEL_EXTRAS``: opentelemetry-sdk and
opentelemetry-exporter-otlp-proto-common 1.45.2.) Nothing touches the network: spans go to an
exporter here that encodes each batch with ``opentelemetry.exporter.otlp.proto.common``
(``encode_spans``, the protobuf ``ExportTraceServiceRequest`` the OTLP exporters send) and
writes it as one line of the OTLP JSON mapping (protobuf's ``MessageToDict`` with integer
enums, then hex ids), as the Collector's file exporter does. ``base64_ids.json`` keeps
protobuf's own mapping (base64 ids, enum names), as files made with ``MessageToJson`` are.
Model calls are scripted (LangChain's fake chat model, stub LLMs); trace and span ids and
timestamps are new on every generation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status, StatusCode

ID_KEYS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def _hex_ids(node: Any) -> Any:
    import base64

    if isinstance(node, dict):
        return {
            k: base64.b64decode(v).hex() if k in ID_KEYS and isinstance(v, str) else _hex_ids(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(v) for v in node]
    return node


def request_json(spans: Any, otlp_mapping: bool = True, indent: int | None = None) -> str:
    message = MessageToDict(encode_spans(spans), use_integers_for_enums=otlp_mapping)
    return json.dumps(
        _hex_ids(message) if otlp_mapping else message,
        indent=indent,
        separators=None if indent else (",", ":"),
    )


class FileExporter(SpanExporter):
    """One OTLP/JSON line per export call, appended to the current path (``rotate`` switches)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batches: list[list[Any]] = []

    def export(self, spans: Any) -> SpanExportResult:
        self.batches.append(list(spans))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(request_json(spans) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def provider_for(exporter: SpanExporter, service: str, batch: bool = False) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": "1.4.0"}))
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    return provider


class RateLimitError(Exception):
    """What openai's client raises on HTTP 429 (same name and message shape)."""


def genai_agent(
    tracer: Any,
    *,
    question: str,
    deprecated: bool = False,
    fail_429: bool = False,
    cost: bool = False,
    tool_fails_once: bool = False,
    keep_root_open: bool = False,
) -> Any:
    """An agent in GenAI semantic-convention names: invoke_agent > chat, execute_tool, chat."""
    inp, out = (
        ("gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens")
        if deprecated
        else ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")
    )
    provider_key = "gen_ai.system" if deprecated else "gen_ai.provider.name"
    root = tracer.start_span(
        "invoke_agent support-agent",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "support-agent",
            "gen_ai.agent.id": "agent-7",
            "gen_ai.conversation.id": "conv-42",
            provider_key: "openai",
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": question}]}]
            ),
        },
    )
    from opentelemetry import trace as api

    ctx = api.set_span_in_context(root)

    def chat(n_in: int, n_out: int, cache_read: int = 0, answer: str = "") -> None:
        attrs = {
            "gen_ai.operation.name": "chat",
            provider_key: "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            inp: n_in,
            out: n_out,
            "gen_ai.response.finish_reasons": ["stop" if answer else "tool_calls"],
        }
        if deprecated:
            attrs["llm.request.type"] = "chat"
        if cache_read:
            attrs[
                "gen_ai.usage.cache_read_input_tokens"
                if deprecated
                else "gen_ai.usage.cache_read.input_tokens"
            ] = cache_read
        if cost:
            attrs["gen_ai.usage.cost"] = round(n_in * 0.15e-6 + n_out * 0.6e-6, 8)
        if answer:
            attrs["gen_ai.output.messages"] = json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": answer}]}]
            )
        with tracer.start_as_current_span(
            "chat gpt-4o-mini", context=ctx, kind=api.SpanKind.CLIENT, attributes=attrs
        ):
            time.sleep(0.002)

    chat(420, 30, cache_read=256)
    if fail_429:
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            context=ctx,
            kind=api.SpanKind.CLIENT,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    provider_key: "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                }
            )
            error = RateLimitError("Error code: 429 - Rate limit reached for gpt-4o-mini: Limit 200000 TPM")
            span.record_exception(error)
            span.set_attribute("error.type", "RateLimitError")
            span.set_status(Status(StatusCode.ERROR, str(error)))
        root.record_exception(error)
        root.set_attribute("error.type", "RateLimitError")
        root.set_status(Status(StatusCode.ERROR, str(error)))
        root.end()
        return root
    for attempt in range(2 if tool_fails_once else 1):
        failed = tool_fails_once and attempt == 0
        with tracer.start_as_current_span(
            "execute_tool get_order_status",
            context=ctx,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "get_order_status",
                    "gen_ai.tool.call.id": f"call_{attempt}",
                    "gen_ai.tool.call.arguments": '{"order": "A-1001"}',
                }
            )
            if failed:
                error = TimeoutError("order service did not answer in 5 s")
                span.record_exception(error)
                span.set_attribute("error.type", "TimeoutError")
                span.set_status(Status(StatusCode.ERROR, str(error)))
            else:
                span.set_attribute("gen_ai.tool.call.result", '{"status": "shipped", "carrier": "DHL"}')
    chat(480, 12, answer="Your order A-1001 has shipped with DHL.")
    if keep_root_open:
        return root
    root.set_attributes({inp: 900, out: 42})  # the agent's aggregate: must not double the run
    root.end()
    return root


def main_emitters(out: Path) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = FileExporter(out / "genai_agent.jsonl")
    tracer = provider_for(exporter, "support-bot").get_tracer("support_bot.agent", "1.4.0")
    genai_agent(tracer, question="Where is my order A-1001?", cost=False)
    exporter.path = out / "genai_failed_429.jsonl"
    genai_agent(tracer, question="Where is my order B-2002?", fail_429=True)
    exporter.path = out / "genai_deprecated.jsonl"
    genai_agent(tracer, question="Where is my order C-3003?", deprecated=True)
    exporter.path = out / "several_traces.jsonl"  # three runs in one file, one with a retried tool
    genai_agent(tracer, question="Where is my order D-4004?", tool_fails_once=True)
    genai_agent(tracer, question="Where is my order E-5005?", cost=True)
    genai_agent(tracer, question="Where is my order F-6006?", fail_429=True)
    # A trace split across a rotated file and the current one: the root arrives last.
    exporter.path = out / "rotated" / "traces-2026-12-01T10-00-00.000.jsonl"
    root = genai_agent(tracer, question="Where is my order G-7007?", keep_root_open=True)
    exporter.path = out / "rotated" / "traces.jsonl"
    root.end()
    # A trace whose root span never ended (the process was killed before it).
    exporter.path = out / "incomplete.jsonl"
    genai_agent(tracer, question="Where is my order H-8008?", keep_root_open=True)
    # One pretty-printed request (an OTLP/HTTP JSON body saved to disk), and protobuf's own mapping.
    memory = InMemorySpanExporter()
    mem_tracer = provider_for(memory, "support-bot").get_tracer("support_bot.agent", "1.4.0")
    genai_agent(mem_tracer, question="Where is my order I-9009?")
    (out / "pretty.json").write_text(request_json(memory.get_finished_spans(), indent=2) + "\n")
    memory.clear()
    genai_agent(mem_tracer, question="Where is my order J-1010?")
    (out / "base64_ids.json").write_text(request_json(memory.get_finished_spans(), otlp_mapping=False) + "\n")
    langchain_emitters(out)


def _langchain_app(model_field: bool) -> Any:
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
    from langchain_core.outputs import ChatResult
    from langchain_core.runnables import RunnableLambda
    from langchain_core.tools import tool

    class ScriptedChatModel(FakeMessagesListChatModel):
        """The fake chat model, answering with the model name a provider's response carries."""

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            result = super()._generate(*args, **kwargs)
            return ChatResult(
                generations=result.generations, llm_output={"model_name": "gpt-4o-mini-2024-07-18"}
            )

    if model_field:
        ScriptedChatModel.model_fields  # noqa: B018 - pydantic model built
        ScriptedChatModel = type(
            "ScriptedChatModel",
            (ScriptedChatModel,),
            {"__annotations__": {"model_name": str}, "model_name": "gpt-4o-mini-2024-07-18"},
        )

    @tool
    def get_order_status(order: str) -> str:
        """Status of an order."""
        if order.startswith("X"):
            raise RateLimitError("Error code: 429 - Rate limit reached for the order service")
        return f"order {order}: shipped"

    meta = {"model_name": "gpt-4o-mini-2024-07-18", "model_provider": "openai"}
    model = ScriptedChatModel(
        responses=[
            AIMessage(
                content="",
                tool_calls=[{"name": "get_order_status", "args": {"order": "A-1001"}, "id": "call_1"}],
                usage_metadata={
                    "input_tokens": 772,
                    "output_tokens": 30,
                    "total_tokens": 802,
                    "input_token_details": {"cache_read": 512},
                },
                response_metadata=meta,
            ),
            AIMessage(
                content="Your order A-1001 has shipped.",
                usage_metadata={"input_tokens": 480, "output_tokens": 12, "total_tokens": 492},
                response_metadata=meta,
            ),
            AIMessage(
                content="",
                tool_calls=[{"name": "get_order_status", "args": {"order": "X-1"}, "id": "call_2"}],
                usage_metadata={"input_tokens": 400, "output_tokens": 20, "total_tokens": 420},
                response_metadata=meta,
            ),
        ]
    )

    def support_agent(question: str) -> str:
        messages: list[Any] = [HumanMessage(question)]
        reply = model.invoke(messages)
        messages.append(reply)
        for call in reply.tool_calls:
            messages.append(ToolMessage(get_order_status.invoke(call["args"]), tool_call_id=call["id"]))
        return model.invoke(messages).content

    return RunnableLambda(support_agent).with_config(run_name="support_agent")


def langchain_emitters(out: Path) -> None:
    from openinference.instrumentation.langchain import LangChainInstrumentor
    from opentelemetry.instrumentation.langchain import LangchainInstrumentor

    for name, instrumentor, model_field in (
        ("openinference", LangChainInstrumentor(), True),
        ("openllmetry", LangchainInstrumentor(), False),
    ):
        exporter = FileExporter(out / f"{name}.jsonl")
        provider = provider_for(exporter, f"support-bot-{name}", batch=True)
        instrumentor.instrument(tracer_provider=provider)
        app = _langchain_app(model_field)
        app.invoke("Where is my order A-1001?")
        with contextlib.suppress(RateLimitError):
            app.invoke("Where is my order X-1?")  # the third reply calls a tool that raises (429)
        provider.force_flush()
        instrumentor.uninstrument()


def harness_emitter(out: Path) -> None:
    """react-agent-harness 0.14: its OTELHook (``enable_otel=True``) on an orchestrated run."""
    import asyncio
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    import make_harness as mh
    from harness import otel

    exporter = FileExporter(out / "harness_0.14.jsonl")
    otel.OTELHook._build_exporter = staticmethod(lambda endpoint: exporter)  # no network
    with tempfile.TemporaryDirectory() as home:
        ctx = mh.Ctx("orchestrated_otel", Path(home), None, Path(home) / "meta.json")
        ctx.note(run_id="otel-sample")  # the budget file it writes (into the temp folder) is named by it
        llm = mh.StubLLM(mh._orch_script, plan=mh.PLAN, replan=mh.REPLAN, complexity="complex")
        rt = mh.runtime(
            ctx,
            llm,
            [
                mh._cfg(mh.RESEARCHER, checkpoint_every=1),
                mh._cfg(mh.ANALYST, checkpoint_every=1, max_steps=2),
                mh._cfg(mh.REPORTER),
            ],
            enable_otel=True,
        )
        asyncio.run(mh.drive(ctx, rt.dispatch_stream("Fix the worker-07 memory leak")))


def techrevati_emitter(out: Path) -> None:
    """techrevati-runtime 0.4: its OpenTelemetrySink on a completed, a failed and a gated session."""
    from techrevati.runtime import AgentSession, QualityGate, QualityLevel, UsageSnapshot
    from techrevati.runtime.otel import OpenTelemetrySink

    exporter = FileExporter(out / "techrevati_0.4.jsonl")
    provider = provider_for(exporter, "techrevati-demo")
    sink = OpenTelemetrySink(tracer=provider.get_tracer("techrevati.runtime", "0.4.0"), agent_id="worker-1")
    done = AgentSession(
        role="researcher",
        phase="discovery",
        project_id=42,
        event_sink=sink,
        quality_gate=QualityGate(QualityLevel.STANDARD),
    )
    with done.session() as s:
        s.run_turn(lambda: "plan", model="model-a", usage=UsageSnapshot(input_tokens=1200, output_tokens=300))
        s.run_tool("web_search", lambda: ["result 1", "result 2"])
        s.evaluate_gate(QualityLevel.STRICT)
    failing = AgentSession(role="fetcher", phase="collect", project_id=42, event_sink=sink)
    try:
        with failing.session() as s:
            s.run_turn(
                lambda: (_ for _ in ()).throw(ConnectionError("connection reset by peer")), model="model-b"
            )
    except ConnectionError:
        pass
    provider.force_flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--emitter", choices=("main", "harness", "techrevati"), default="main")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.emitter == "main":
        for path in [*out.glob("*.json*"), *out.glob("rotated/*.jsonl")]:
            if not path.name.startswith(("harness_", "techrevati_")):
                path.unlink()
        main_emitters(out)
    else:
        for path in out.glob(f"{args.emitter}_*.jsonl"):
            path.unlink()
        {"harness": harness_emitter, "techrevati": techrevati_emitter}[args.emitter](out)
    print(f"otel samples ({args.emitter}): wrote {out}")


if __name__ == "__main__":
    main()

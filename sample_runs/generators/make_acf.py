"""Write sample agent-checkpoint-framework (ACF) documents with the real package.

Run inside a venv that has exactly one ``agent-checkpoint-framework`` version installed::

    <venv python> sample_runs/generators/make_acf.py --out sample_runs/acf

Files go to ``<out>/v<installed version>/``. ACF writes nothing itself: every document here
is the output of ``emit_json`` (or ``emit_manifest``) on objects built by the library's own
factories and manager. Folder layouts vary on purpose, because ACF has no path convention
and a reader must recognise documents by content. Ids and timestamps differ on every run;
scenarios are identified by ``task_summary`` (see sample_runs/acf/README.md).

Only the standard library and the framework are imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import uuid
from importlib.metadata import version
from pathlib import Path

from agent_checkpoint import (
    Checkpoint,
    CheckpointManager,
    CheckpointStatus,
    RetryStrategy,
    Storage,
    emit_json,
    new_checkpoint,
    parse,
    resume_from,
)

ACF_VERSION = version("agent-checkpoint-framework")
HAS_TRUST = ACF_VERSION != "0.1.0"  # TrustedValue and manifests arrived in 0.3.0

PARTIAL = CheckpointStatus.PARTIAL
FAILED = CheckpointStatus.FAILED
PAUSED = CheckpointStatus.PAUSED
COMPLETED = CheckpointStatus.COMPLETED


class DirectoryStorage(Storage):
    """An application-side Storage: ``<root>/<task_id>/<checkpoint_id>.json``, one
    ``emit_json`` document per file (ACF ships only InMemoryStorage)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, checkpoint: Checkpoint) -> Path:
        return self.root / checkpoint.task_id / f"{checkpoint.checkpoint_id}.json"

    def save(self, checkpoint: Checkpoint) -> None:
        write_doc(self._path(checkpoint), checkpoint)

    def load(self, checkpoint_id: str) -> Checkpoint | None:
        for path in self.root.glob(f"*/{checkpoint_id}.json"):
            result = parse(path.read_text(encoding="utf-8"))
            return result.checkpoint if result.ok else None
        return None

    def list_all(self) -> list[Checkpoint]:
        found = []
        for path in sorted(self.root.glob("*/*.json")):
            result = parse(path.read_text(encoding="utf-8"))
            if result.ok and result.checkpoint is not None:
                found.append(result.checkpoint)
        return found


def write_doc(path: Path, checkpoint: Checkpoint) -> None:
    """One checkpoint per file, checked with the library's own parser first."""
    text = emit_json(checkpoint)
    result = parse(text)
    if not result.ok and path.parent.name != "edge_cases":
        raise SystemExit(f"ACF rejects its own document {path}: {result.errors}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def trusted(value: object, tier: str) -> object:
    """A TrustedValue on 0.3.0+, the plain value on 0.1.0 (which has no trust tiers)."""
    if not HAS_TRUST:
        return value
    from agent_checkpoint import TrustedValue, TrustTier

    return TrustedValue(value=value, trust=TrustTier(tier))


def edit(checkpoint: Checkpoint, **changes: object) -> Checkpoint:
    """Checkpoint is frozen: copy forward what resume_from does not carry."""
    return dataclasses.replace(checkpoint, **changes)


# --------------------------------------------------------------------------- scenarios


def completed_chain(out: Path) -> None:
    """Three checkpoints by one agent through CheckpointManager, ending completed."""
    manager = CheckpointManager(DirectoryStorage(out / "checkpoints"))
    task_id = str(uuid.uuid4())
    summary = "Summarise Q3 customer interviews into a findings memo"
    steps = ["load transcripts", "cluster themes", "draft memo"]
    first = manager.create_checkpoint(
        task_id,
        "summarizer-01",
        summary,
        PARTIAL,
        completed_steps=steps[:1],
        remaining_steps=steps[1:],
        partial_output={"transcripts_loaded": 42},
        confidence=0.8,
    )
    second = manager.create_checkpoint(
        task_id,
        "summarizer-01",
        summary,
        PARTIAL,
        completed_steps=steps[:2],
        remaining_steps=steps[2:],
        partial_output={"transcripts_loaded": 42, "themes": ["pricing", "onboarding", "latency"]},
        confidence=0.85,
        parent_checkpoint_id=first.checkpoint_id,
    )
    manager.create_checkpoint(
        task_id,
        "summarizer-01",
        summary,
        COMPLETED,
        completed_steps=steps,
        remaining_steps=[],
        partial_output={"memo": "memo/q3-findings.md", "words": 1830},
        confidence=0.92,
        parent_checkpoint_id=second.checkpoint_id,
    )


def failed_rate_limit(out: Path) -> None:
    """A chain whose tip failed on an HTTP 429 and asks to escalate."""
    folder = out / "exports" / "ci-triage"
    task_id = str(uuid.uuid4())
    root = edit(
        new_checkpoint(task_id, "ci-triage-01", "Triage overnight CI failures for payments-service"),
        completed_steps=["collect failed jobs"],
        remaining_steps=["classify failures", "open tickets"],
        partial_output={"failed_jobs": 17},
    )
    write_doc(folder / "01-partial.json", root)
    failed = edit(
        resume_from(root, "ci-triage-01"),
        status=FAILED,
        remaining_steps=["classify failures", "open tickets"],
        partial_output={"failed_jobs": 17, "classified": 6},
        failure_reason=(
            "LLM call failed: Error code: 429 - Rate limit reached for gpt-4o-mini in organization "
            "org-payments on tokens per min (TPM): Limit 200000, Used 199812, Requested 1450. "
            "Please try again in 1.2s. Gave up after 5 retries."
        ),
        confidence=0.2,
        retry_strategy=RetryStrategy.ESCALATE,
        executor_hint="capability:log_analysis",
    )
    write_doc(folder / "02-failed.json", failed)


def paused_for_review(out: Path) -> None:
    """Deliberately paused: waiting for a human (legal) review. The reason lives in
    context_snapshot; ACF has no dedicated field for it."""
    manager = CheckpointManager(DirectoryStorage(out / "checkpoints"))
    task_id = str(uuid.uuid4())
    summary = "Draft GDPR data-retention policy"
    first = manager.create_checkpoint(
        task_id,
        "policy-writer-01",
        summary,
        PARTIAL,
        completed_steps=["inventory data stores"],
        remaining_steps=["draft retention table", "legal review", "publish"],
    )
    manager.create_checkpoint(
        task_id,
        "policy-writer-01",
        summary,
        PAUSED,
        completed_steps=["inventory data stores", "draft retention table"],
        remaining_steps=["legal review", "publish"],
        partial_output={"draft": "policies/retention-v0.3.md"},
        confidence=0.7,
        retry_strategy=RetryStrategy.RESUME,
        executor_hint="same",
        context_snapshot={
            "pause_reason": "waiting for legal review of section 4 (backups)",
            "reviewer": trusted("legal@example.invalid", "user"),
        },
        parent_checkpoint_id=first.checkpoint_id,
    )


def resumed_migration(out: Path) -> None:
    """failed (lock timeout) -> resume_from by another agent -> completed."""
    manager = CheckpointManager(DirectoryStorage(out / "checkpoints"))
    task_id = str(uuid.uuid4())
    summary = "Migrate billing DB to schema v7"
    steps = [
        "snapshot database",
        "apply migration 0701",
        "apply migration 0702",
        "backfill invoices",
        "verify row counts",
    ]
    root = manager.create_checkpoint(
        task_id,
        "migrator-01",
        summary,
        PARTIAL,
        completed_steps=steps[:1],
        remaining_steps=steps[1:],
        partial_output={"snapshot": "s3://backups/billing/2026-11-22.dump"},
        context_snapshot={"db_host": trusted("billing-db-2", "system")},
    )
    failed = manager.create_checkpoint(
        task_id,
        "migrator-01",
        summary,
        FAILED,
        completed_steps=steps[:2],
        remaining_steps=steps[2:],
        partial_output={"applied": ["0701"], "last_sql_state": "55P03"},
        failure_reason="Lock timeout on table invoices after 30s while applying 0702 (2/2 attempts)",
        confidence=0.35,
        retry_strategy=RetryStrategy.RESUME,
        executor_hint="same",
        context_snapshot={
            "db_host": trusted("billing-db-2", "system"),
            "requested_by": trusted("alice", "user"),
            "lock_holder_pid": 48213,
        },
        parent_checkpoint_id=root.checkpoint_id,
    )
    resumed = edit(
        resume_from(failed, "migrator-02"),
        completed_steps=steps[:3],
        remaining_steps=steps[3:],
        partial_output={"applied": ["0701", "0702"]},
        confidence=0.75,
        retry_strategy=RetryStrategy.RESUME,
        executor_hint="any",
    )
    manager.storage.save(resumed)
    done = edit(
        resume_from(resumed, "migrator-02"),
        status=COMPLETED,
        completed_steps=steps,
        remaining_steps=[],
        partial_output={"applied": ["0701", "0702"], "invoices_backfilled": 120433},
        confidence=0.95,
    )
    manager.storage.save(done)


def fork(out: Path) -> None:
    """Two children of one root; the earlier child failed on context length, the later
    one completed."""
    folder = out / "forks" / "test-suite"
    task_id = str(uuid.uuid4())
    root = edit(
        new_checkpoint(task_id, "tester-01", "Generate a unit-test suite for parser.py"),
        completed_steps=["read parser.py"],
        remaining_steps=["write tests", "run tests"],
    )
    write_doc(folder / f"{root.checkpoint_id}.json", root)
    prop = edit(
        resume_from(root, "tester-02"),
        status=FAILED,
        remaining_steps=["write tests", "run tests"],
        partial_output={"approach": "property-based"},
        failure_reason=(
            "context_length_exceeded: This model's maximum context length is 128000 tokens. "
            "However, your messages resulted in 131072 tokens. Please reduce the length of the messages."
        ),
        confidence=0.3,
        retry_strategy=RetryStrategy.RESTART,
        executor_hint="any",
    )
    write_doc(folder / f"{prop.checkpoint_id}.json", prop)
    example = edit(
        resume_from(root, "tester-01"),
        status=COMPLETED,
        completed_steps=["read parser.py", "write tests", "run tests"],
        partial_output={"approach": "example-based", "tests": 38, "passed": 38},
        confidence=0.9,
    )
    write_doc(folder / f"{example.checkpoint_id}.json", example)


def restart(out: Path) -> None:
    """First attempt times out and asks for a restart; a second root (same task_id, no
    parent) completes."""
    folder = out / "runs" / "pricing-scrape"
    task_id = str(uuid.uuid4())
    summary = "Scrape competitor pricing pages"
    pages = ["fetch pricing pages", "extract plans", "normalise currencies"]
    first = edit(new_checkpoint(task_id, "scraper-01", summary), remaining_steps=pages)
    write_doc(folder / "attempt-1" / "start.json", first)
    timed_out = edit(
        resume_from(first, "scraper-01"),
        status=FAILED,
        remaining_steps=pages,
        partial_output={"pages_fetched": 0, "pages_total": 14},
        failure_reason=(
            "TimeoutError: timed out after 120s waiting for https://competitor.example/pricing "
            "to render (headless browser); 0 of 14 pages fetched"
        ),
        confidence=0.1,
        retry_strategy=RetryStrategy.RESTART,
        executor_hint="any",
    )
    write_doc(folder / "attempt-1" / "failed.json", timed_out)
    second = edit(new_checkpoint(task_id, "scraper-02", summary), remaining_steps=pages)
    write_doc(folder / "attempt-2" / "start.json", second)
    done = edit(
        resume_from(second, "scraper-02"),
        status=COMPLETED,
        completed_steps=pages,
        remaining_steps=[],
        partial_output={"plans": 31, "currency": "EUR"},
        confidence=0.88,
    )
    write_doc(folder / "attempt-2" / "done.json", done)


def handoff(out: Path) -> None:
    """researcher -> writer -> editor; each agent files its checkpoints in its own folder."""
    task_id = str(uuid.uuid4())
    research = edit(
        new_checkpoint(task_id, "researcher-01", "Write the launch blog post for Baton 1.0"),
        completed_steps=["collect release notes", "interview maintainers"],
        remaining_steps=["write draft", "edit draft"],
        partial_output={"notes": "notes/launch.md"},
        confidence=0.8,
        retry_strategy=RetryStrategy.ESCALATE,
        executor_hint="capability:technical_writing",
        context_snapshot={
            "audience": trusted("developers who run agents locally", "user"),
            "style_guide": trusted("docs/style.md", "system"),
        },
    )
    write_doc(out / "agent_state" / "researcher-01" / "launch-post-1.json", research)
    draft = edit(
        resume_from(research, "writer-01"),
        completed_steps=["collect release notes", "interview maintainers", "write draft"],
        remaining_steps=["edit draft"],
        partial_output={"draft": "drafts/launch-v1.md", "words": 1240},
        confidence=0.75,
        retry_strategy=RetryStrategy.ESCALATE,
        executor_hint="capability:editing",
        context_snapshot={"audience": trusted("developers who run agents locally", "user")},
    )
    write_doc(out / "agent_state" / "writer-01" / "launch-post-2.json", draft)
    final = edit(
        resume_from(draft, "editor-01"),
        status=COMPLETED,
        completed_steps=["collect release notes", "interview maintainers", "write draft", "edit draft"],
        partial_output={"final": "posts/baton-1-0.md", "words": 1105},
        confidence=0.93,
    )
    write_doc(out / "agent_state" / "editor-01" / "launch-post-3.json", final)


def jsonl_stream(out: Path) -> None:
    """Several documents of one task, one compact emit_json per line, in one file."""
    task_id = str(uuid.uuid4())
    summary = "Index support tickets into the vector store"
    first = edit(
        new_checkpoint(task_id, "indexer-01", summary),
        remaining_steps=["export tickets", "embed tickets", "upsert vectors"],
    )
    second = edit(
        resume_from(first, "indexer-01"),
        completed_steps=["export tickets"],
        remaining_steps=["embed tickets", "upsert vectors"],
        partial_output={"tickets": 5120},
    )
    third = edit(
        resume_from(second, "indexer-01"),
        completed_steps=["export tickets", "embed tickets"],
        remaining_steps=["upsert vectors"],
        partial_output={"tickets": 5120, "embedded": 5120, "upserted": 2048},
        failure_reason=(
            "Tool 'vector_upsert' failed: ConnectionError: [Errno 111] Connection refused "
            "(qdrant:6333) after 2048 of 5120 vectors"
        ),
        status=FAILED,
        confidence=0.4,
        retry_strategy=RetryStrategy.RESUME,
        executor_hint="same",
    )
    path = out / "streams" / "ticket-indexing.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [emit_json(cp, indent=None) for cp in (first, second, third)]
    for line in lines:
        if not parse(line).ok:
            raise SystemExit(f"ACF rejects its own document in {path}")
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def edge_cases(out: Path) -> None:
    """The factories do not check task_id: this document is library output that the
    library's own ``parse`` rejects (task_id must be a UUIDv4)."""
    cp = new_checkpoint("release-notes", "writer-01", "Write release notes for 2.4")
    write_doc(out / "edge_cases" / "non_uuid_task_id.json", cp)


def manifests(out: Path) -> None:
    """Agent manifests (0.3.0+): capabilities that executor_hint values refer to."""
    from agent_checkpoint import AgentManifest, emit_manifest, parse_manifest
    from agent_checkpoint.manifest import ConfidenceRange

    agents = [
        AgentManifest(
            "0.1.0",
            "researcher-01",
            ["research", "interviewing"],
            refuses=["publish"],
            confidence_range=ConfidenceRange(0.4, 0.9),
            max_context_tokens=128000,
        ),
        AgentManifest(
            "0.1.0",
            "writer-01",
            ["technical_writing"],
            refuses=["deploy"],
            confidence_range=ConfidenceRange(0.3, 0.95),
            max_context_tokens=128000,
            contact="platform-team@example.invalid",
        ),
        AgentManifest("0.1.0", "editor-01", ["editing", "technical_writing"]),
        AgentManifest(
            "0.1.0",
            "migrator-02",
            ["sql", "database_migration"],
            refuses=["drop_table"],
            max_context_tokens=32000,
        ),
    ]
    for manifest in agents:
        text = emit_manifest(manifest)
        if parse_manifest(text) is None:
            raise SystemExit(f"ACF rejects its own manifest for {manifest.agent_id}")
        path = out / "manifests" / f"{manifest.agent_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")


SCENARIOS = [
    completed_chain,
    failed_rate_limit,
    paused_for_review,
    resumed_migration,
    fork,
    restart,
    handoff,
    jsonl_stream,
    edge_cases,
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder that receives v<version>/")
    args = parser.parse_args(argv)
    out = args.out / f"v{ACF_VERSION}"
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty: remove it first (ids are new on every run)")
    out.mkdir(parents=True, exist_ok=True)
    for scenario in SCENARIOS:
        scenario(out)
    if HAS_TRUST:
        manifests(out)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files)
    print(json.dumps({"acf_version": ACF_VERSION, "out": str(out), "files": len(files), "bytes": total}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The resume command Baton prints is pasted into a shell: names from files or from the user
must come out as single, quoted arguments and never as placeholders or extra commands."""

from __future__ import annotations

import shlex
from pathlib import Path

from sqlalchemy.engine import Engine

from core import queries
from core.resume.export import export_checkpoint
from core.resume.native import render_command
from core.resume.options import ExportOptions
from core.store import Store
from ingest.loader import ingest_paths
from tests.conftest import SAMPLE_RUNS

CRASHED = "ab3a2bfc-06b6-43e9-8a61-33395e261a47"  # harness 0.14 crash_periodic run


def _harness_checkpoint(engine: Engine) -> str:
    ingest_paths([SAMPLE_RUNS / "harness/v0.14.0/checkpoints"], Store(engine))
    run = next(r for r in queries.list_runs(engine, framework="harness") if r["native_id"] == CRASHED)
    return queries.run_checkpoints(engine, run["id"])[-1]["id"]


def test_harness_command_for_a_hostile_file_name_is_one_quoted_argument(
    engine: Engine, tmp_path: Path
) -> None:
    checkpoint = _harness_checkpoint(engine)
    out = tmp_path / "out dir"
    out.mkdir()
    result = export_checkpoint(
        engine, checkpoint, ExportOptions(format="native"), file=out / "my resume;touch pwned {dir}.json"
    )
    words = shlex.split(result.command(out))
    assert words[-2:] == ["--resume", "my resume;touch pwned {dir}"]
    assert words[0] == f"CHECKPOINT_DIR={out}"
    assert result.path == out / "my resume;touch pwned {dir}.json"


def test_placeholders_are_filled_in_one_pass() -> None:
    filled = render_command("a {dir} b {dir_py} c {{dir}}", Path("/tmp/x y"))
    assert filled == "a '/tmp/x y' b '/tmp/x y' c {dir}"

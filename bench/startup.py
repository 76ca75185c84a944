"""Start-up of the command line beside a bare ``import sqlmodel``, measured in the same run.

Usage: ``python bench/startup.py [--repeat 7] [--baseline DIR]``

Prints the median wall and CPU time of ``python -c "import sqlmodel"``, ``baton --help`` and
``baton runs --json`` on an empty database, and each one's ratio to the bare import, beside
the targets: ``baton --help`` imports no SQLAlchemy, ``baton runs --json`` within 1.3x of the
import. ``--baseline DIR`` times another checkout's CLI in the same loop (``python -m baton``,
or ``python -m core.cli`` for checkouts from before the ``baton`` package), alternated with
this one, so both see the same machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median
from time import perf_counter

REPO = Path(__file__).resolve().parent.parent


def _cli_module(tree: Path) -> str:
    return "baton" if (tree / "baton" / "cli.py").is_file() else "core.cli"


def _cases(db_url: str, baseline: Path | None) -> dict[str, tuple[Path | None, list[str]]]:
    trees = [("", REPO)] + ([("baseline ", baseline)] if baseline else [])
    cases: dict[str, tuple[Path | None, list[str]]] = {
        "import sqlmodel": (None, [sys.executable, "-c", "import sqlmodel"])
    }
    for label, tree in trees:
        module = _cli_module(tree)
        cases[f"{label}baton --help"] = (tree, [sys.executable, "-m", module, "--help"])
        cases[f"{label}baton runs --json (empty db)"] = (
            tree,
            [sys.executable, "-m", module, "runs", "--json", "--db", db_url],
        )
    return cases


def _time(tree: Path | None, command: list[str]) -> tuple[float, float]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = perf_counter()
    subprocess.run(command, env=env, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL, check=True)
    wall = perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def _help_imports_sqlalchemy() -> bool:
    code = "import sys; from baton.cli import build_parser; build_parser().format_help(); print('sqlalchemy' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout, timed in the same loop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{folder}/empty.db"
        # Create the empty database first (ingest of an empty folder: the read commands open
        # existing databases only), so no run times the schema's creation.
        nothing = Path(folder) / "nothing"
        nothing.mkdir()
        subprocess.run(
            [sys.executable, "-m", "baton", "ingest", str(nothing), "--db", db_url],
            env=dict(os.environ, PYTHONPATH=str(REPO)),
            stdout=subprocess.DEVNULL,
            check=True,
        )
        cases = _cases(db_url, args.baseline)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, (tree, command) in cases.items():
                times[name].append(_time(tree, command))
    floor_wall = median(w for w, _ in times["import sqlmodel"])
    floor_cpu = median(c for _, c in times["import sqlmodel"])
    print(f"median of {args.repeat}, alternated        wall                 CPU")
    for name, runs in times.items():
        wall, cpu = median(w for w, _ in runs), median(c for _, c in runs)
        target = "  target <= 1.3x" if name == "baton runs --json (empty db)" else ""
        print(
            f"{name:38s} {wall * 1000:6.0f} ms ({wall / floor_wall:4.2f}x) "
            f"{cpu * 1000:6.0f} ms ({cpu / floor_cpu:4.2f}x){target}"
        )
    print(f"baton --help imports SQLAlchemy: {'yes' if _help_imports_sqlalchemy() else 'no'} (target: no)")


if __name__ == "__main__":
    main()

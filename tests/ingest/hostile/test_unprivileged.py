"""Unreadable files and folders, as a user who cannot read them sees it: the ingest runs as an
unprivileged user (root reads everything, so the test drops root in the child process). Each
unreadable file is failed with the reason, an unreadable folder is reported, and everything
readable beside them loads."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import queries
from core.db import make_engine
from tests.conftest import REPO, SAMPLE_RUNS


def _nobody() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


NOBODY = _nobody()
SKIP_UNLESS_ROOT = pytest.mark.skipif(
    os.geteuid() != 0 or NOBODY is None, reason="needs root to drop to the user 'nobody'"
)


# The child imports everything as root (the interpreter and site-packages may sit in root's
# home, as pyenv's do), warms up with an ingest of an empty folder and by importing every
# parser (the registry imports them on first use, and LangGraph's needs ormsgpack from
# site-packages), then drops to 'nobody' and runs the real command through the CLI's own main().
CHILD = """
import os, sys
from baton.cli import main
from ingest.registry import all_formats
all_formats()
warm = sys.argv[3]
main(["ingest", warm, "--db", "sqlite:///" + warm + "/warm.db"])
os.setgid(int(sys.argv[2])); os.setgroups([]); os.setuid(int(sys.argv[1]))
sys.exit(main(sys.argv[4:]))
"""


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder 'nobody' can reach (pytest's own is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="baton-nobody-"))
    os.chmod(folder, 0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, 0o755)
    shutil.rmtree(folder)


def _baton_as_nobody(warm: Path, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    assert NOBODY is not None
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(NOBODY.pw_uid), str(NOBODY.pw_gid), str(warm), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home)},
    )


@SKIP_UNLESS_ROOT
def test_unreadable_files_and_folders_fail_alone_with_the_reason(open_tmp: Path) -> None:
    tmp_path = open_tmp
    tree = tmp_path / "agents"
    shutil.copytree(SAMPLE_RUNS / "acf" / "v0.1.0" / "checkpoints", tree)
    readable = sorted(tree.rglob("*.json"))
    secret_file = readable[0]
    secret_folder = readable[-1].parent
    for path in [tree, *tree.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(secret_file, 0o000)
    os.chmod(secret_folder, 0o000)
    home = tmp_path / "home"
    home.mkdir(mode=0o777)
    os.chmod(home, 0o777)
    db = home / "baton.db"
    warm = tmp_path / "warm"
    warm.mkdir()
    done = _baton_as_nobody(warm, home, "ingest", str(tree), "--db", f"sqlite:///{db}")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, (done.stdout, done.stderr)
    files = {f["path"]: f for f in queries.source_files(make_engine(f"sqlite:///{db}", migrate=False))}
    assert files[str(secret_file)]["outcome"] == "failed"
    assert "ermission denied" in files[str(secret_file)]["error"], files[str(secret_file)]
    assert "ermission denied" in done.stderr and secret_folder.name in done.stderr, done.stderr
    expected_loaded = [p for p in readable if p != secret_file and p.parent != secret_folder]
    for path in expected_loaded:
        assert files[str(path)]["outcome"] == "loaded", files.get(str(path))


@SKIP_UNLESS_ROOT
def test_a_path_that_cannot_be_reached_is_one_line_of_ours(open_tmp: Path) -> None:
    private = open_tmp / "private"
    (private / "runs").mkdir(parents=True)
    os.chmod(private, 0o700)
    home = open_tmp / "home"
    home.mkdir()
    os.chmod(home, 0o777)
    warm = open_tmp / "warm"
    warm.mkdir()
    done = _baton_as_nobody(warm, home, "ingest", str(private / "runs"), "--db", f"sqlite:///{home / 'b.db'}")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("baton: ") and "ermission denied" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr

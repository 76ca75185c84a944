"""Isolated virtual environments holding one real agent framework each.

Baton never imports the frameworks at run time. Tests and the sample generators drive the
real packages in their own venvs (several versions of one package cannot share an
environment), cached under ``$BATON_FRAMEWORK_VENVS`` (default ``~/.cache/baton/venvs``).

Command line: ``python tests/framework_envs.py react-agent-harness 0.0.2`` prints the
venv's python.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

FRAMEWORKS: dict[str, tuple[str, ...]] = {
    "agent-checkpoint-framework": ("0.1.0", "0.3.0"),
    "loopengt": ("0.1.0",),
    "react-agent-harness": ("0.0.2", "0.14.0"),
    "techrevati-runtime": ("0.1.0", "0.4.0"),
    "langgraph-checkpoint-sqlite": ("1.0.4", "2.0.11", "3.1.2"),  # with LANGGRAPH_STACKS' pins
}
# What the otel sample generator adds to a framework's venv to drive its OpenTelemetry module.
OTEL_EXTRAS = ("opentelemetry-sdk==1.45.2", "opentelemetry-exporter-otlp-proto-common==1.45.2")

# langgraph-checkpoint-sqlite needs its generation's langgraph beside it (the versions of
# shared/formats/langgraph_and_otlp.md); lgcs 2.0.11's async saver fails with aiosqlite >= 0.22.
LANGGRAPH_STACKS: dict[str, tuple[str, ...]] = {
    "1.0.4": (
        "langgraph==0.2.28",
        "langgraph-checkpoint==1.0.12",
        "langchain-core==0.3.86",
        "msgpack==1.2.4",
    ),
    "2.0.11": (
        "langgraph==0.6.11",
        "langgraph-checkpoint==2.1.2",
        "langchain-core==0.3.86",
        "ormsgpack==1.10.0",
        "aiosqlite==0.21.0",
    ),
    "3.1.2": (
        "langgraph==1.2.24",
        "langgraph-checkpoint==4.3.2",
        "langchain-core==1.8.3",
        "ormsgpack==1.13.1",
        "aiosqlite==0.22.1",
    ),
}


def langgraph_python(version: str) -> Path:
    """The python of a venv with langgraph-checkpoint-sqlite ``version`` and its langgraph."""
    return framework_python("langgraph-checkpoint-sqlite", version, LANGGRAPH_STACKS[version])


def venv_root() -> Path:
    default = Path.home() / ".cache" / "baton" / "venvs"
    return Path(os.environ.get("BATON_FRAMEWORK_VENVS", default))


def framework_python(package: str, version: str, extras: tuple[str, ...] = ()) -> Path:
    """Return the python of a venv with ``package==version`` installed, creating it once.
    ``extras`` (more requirements, such as ``OTEL_EXTRAS``) get a venv of their own."""
    suffix = (
        "+" + hashlib.blake2b("\n".join(sorted(extras)).encode(), digest_size=4).hexdigest() if extras else ""
    )
    target = venv_root() / f"{package}-{version}{suffix}"
    python = target / "bin" / "python"
    marker = target / ".installed"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{package}-{version}{suffix}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(target)
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    f"{package}=={version}",
                    *extras,
                ],
                check=True,
            )
            marker.write_text(f"{package}=={version}\n")
    return python


if __name__ == "__main__":
    print(framework_python(sys.argv[1], sys.argv[2], tuple(sys.argv[3:])))

"""``baton otlp``: receive OpenTelemetry traces over OTLP/HTTP into spool files.

Agents export to ``http://127.0.0.1:4318`` (``OTEL_EXPORTER_OTLP_ENDPOINT``); each request
becomes one OTLP/JSON line in ``~/.baton/otlp/`` (or ``--spool``), acknowledged once it is
on disk. ``baton watch`` or the dashboard loads the spool like any other folder. Binding to
an address other than loopback needs ``--allow-remote`` and prints a warning: the endpoint
has no authentication.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from baton.output import escape

HELP = "receive OpenTelemetry traces over OTLP/HTTP into spool files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=4318, help="port (default 4318, the OTLP/HTTP port; 0: any free)"
    )
    parser.add_argument(
        "--spool",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the spool files (default ~/.baton/otlp)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not loopback (the endpoint has no authentication)",
    )
    parser.add_argument(
        "--max-request-mb",
        type=float,
        default=20.0,
        metavar="MB",
        help="largest request body, as sent and once inflated (default 20 MiB); larger ones get 413",
    )
    parser.add_argument(
        "--rotate-mb",
        type=float,
        default=64.0,
        metavar="MB",
        help="start a new spool file once one holds this much (default 64 MiB)",
    )


def run(args: argparse.Namespace) -> int:
    from core.errors import UserError
    from ingest.otlp_receiver.server import Receiver, is_loopback
    from ingest.otlp_receiver.spool import default_spool_dir

    if not is_loopback(args.host):
        if not args.allow_remote:
            raise UserError(
                f"--host {args.host} is not a loopback address: anyone who reaches it could write traces; "
                "add --allow-remote to bind it anyway"
            )
        print(
            f"warning: listening on {escape(args.host)}, not loopback: anyone who reaches this port "
            "can write traces into the spool (no authentication)",
            file=sys.stderr,
            flush=True,
        )
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is not a port number")
    spool = (args.spool or default_spool_dir()).expanduser()

    def refused(status: int, message: str) -> None:
        print(f"refused ({status}): {escape(message)}", file=sys.stderr, flush=True)

    receiver = Receiver(
        spool,
        args.host,
        args.port,
        max_request_bytes=int(args.max_request_mb * 1024 * 1024),
        spool_file_bytes=max(1, int(args.rotate_mb * 1024 * 1024)),
        on_refused=refused,
    )
    try:
        receiver.start()
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"listening on {escape(receiver.endpoint)}, spool {escape(spool)}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.25):
            pass
    finally:
        receiver.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stats = receiver.stats.snapshot()
    print(
        f"stopped: {stats['requests']} requests, {stats['spans']} spans written, "
        f"{stats['rejected_requests']} requests refused, {stats['rejected_spans']} spans rejected",
        file=sys.stderr,
        flush=True,
    )
    return 0

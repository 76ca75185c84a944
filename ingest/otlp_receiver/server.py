"""The OTLP/HTTP trace receiver: ``POST /v1/traces`` into the spool.

A threaded HTTP/1.1 server (a thread per connection, keep-alive, as the SDKs' exporters
reuse their connection): each request is read whole (within the size limit), decoded,
written to the spool as one OTLP/JSON line and acknowledged once that line is fsynced.
Decoding runs in the connection's thread; the spool's writer thread commits the lines of
parallel requests with one fsync (``spool.Spool``). A request refused is never written.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from ingest.otlp_receiver import request_body, responses
from ingest.otlp_receiver.request_body import JSON, BadRequest
from ingest.otlp_receiver.spool import DEFAULT_MAX_BYTES as SPOOL_FILE_BYTES
from ingest.otlp_receiver.spool import Spool

TRACES_PATH = "/v1/traces"
SOCKET_TIMEOUT_S = 30.0


@dataclass
class ReceiverStats:
    """What the receiver did since it started (the dashboard's Ingest page shows it)."""

    requests: int = 0  # acknowledged
    spans: int = 0  # written to the spool
    rejected_requests: int = 0  # refused whole (4xx, 5xx)
    rejected_spans: int = 0  # left out of acknowledged requests (partial success)
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def accepted(self, spans: int, rejected: int) -> None:
        with self._lock:
            self.requests += 1
            self.spans += spans
            self.rejected_spans += rejected

    def refused(self, message: str) -> None:
        with self._lock:
            self.rejected_requests += 1
            self.last_error = message

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


class Receiver:
    """An OTLP/HTTP trace endpoint writing to a spool folder. ``start`` binds and serves in
    a thread; ``stop`` stops taking requests and writes what is queued."""

    def __init__(
        self,
        spool_dir: Path,
        host: str = "127.0.0.1",
        port: int = 4318,
        max_request_bytes: int = request_body.DEFAULT_MAX_BYTES,
        spool_file_bytes: int = SPOOL_FILE_BYTES,
        on_refused: Any = None,
    ) -> None:
        self.spool = Spool(spool_dir, spool_file_bytes)
        self.host = host
        self.port = port
        self.max_request_bytes = max_request_bytes
        self.stats = ReceiverStats()
        self.on_refused = on_refused  # called with (status, message) per refused request
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{TRACES_PATH}"

    def start(self) -> None:
        self.spool.open()
        try:
            server_class = _Server6 if ":" in self.host else _Server
            self._server = server_class((self.host, self.port), _Handler)
        except OSError:
            self.spool.close()
            raise
        self._server.receiver = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="baton-otlp", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.spool.close()

    def handle(self, body: bytes, kind: str, encoding: str | None) -> bytes:
        """One request's body to its response body; raises BadRequest."""
        document, kept, rejected = request_body.decode(
            request_body.inflate(body, encoding, self.max_request_bytes), kind
        )
        if kept:
            try:
                self.spool.append(orjson.dumps(document))
            except OSError as exc:
                raise BadRequest(503, f"the spool could not be written: {exc.strerror or exc}") from None
        self.stats.accepted(kept, rejected.count)
        return responses.success(kind, rejected.count, rejected.reason)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    server: _Server
    server_version = "baton-otlp"

    def do_POST(self) -> None:  # noqa: N802 (http.server's names)
        if self.path.split("?", 1)[0] != TRACES_PATH:
            self._refuse(404, f"no such endpoint {self.path!r}: send traces to {TRACES_PATH}", JSON)
            return
        receiver = self.server.receiver
        kind = JSON
        try:
            kind = request_body.content_kind(self.headers.get("Content-Type"))
            body = self._read_body(receiver.max_request_bytes)
            answer = receiver.handle(body, kind, self.headers.get("Content-Encoding"))
        except BadRequest as exc:
            self._refuse(exc.status, exc.message, kind)
            return
        except Exception as exc:  # a body no rule foresaw: refused with a reason, the server goes on
            self.close_connection = True
            self._refuse(500, f"the request could not be handled: {exc.__class__.__name__}: {exc}", kind)
            return
        self._send(200, answer, kind)

    def do_GET(self) -> None:  # noqa: N802
        self._not_allowed()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def _not_allowed(self) -> None:
        if self.path.split("?", 1)[0] == TRACES_PATH:
            self._refuse(405, "send traces with POST", JSON, extra={"Allow": "POST"})
        else:
            self._refuse(404, f"no such endpoint {self.path!r}: send traces to {TRACES_PATH}", JSON)

    def _read_body(self, limit: int) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked(limit)
            self.close_connection = True
            raise BadRequest(411, "a Content-Length (or chunked transfer) is required")
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise BadRequest(400, f"bad Content-Length {length!r}") from None
        if size < 0:
            self.close_connection = True
            raise BadRequest(400, f"bad Content-Length {length!r}")
        if size > limit:
            self.close_connection = True  # the body is left unread
            raise BadRequest(413, f"the request is {size:,} bytes; the limit is {limit:,}")
        body = self.rfile.read(size)
        if len(body) != size:
            self.close_connection = True
            raise BadRequest(400, f"the body ended after {len(body):,} of {size:,} bytes")
        return body

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise BadRequest(400, "bad chunked transfer encoding") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > limit:
                self.close_connection = True
                raise BadRequest(413, f"the request is over the limit of {limit:,} bytes")
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _refuse(self, status: int, message: str, kind: str, extra: dict[str, str] | None = None) -> None:
        receiver = self.server.receiver
        receiver.stats.refused(f"{status}: {message}")
        if receiver.on_refused is not None:
            receiver.on_refused(status, message)
        self._send(status, responses.failure(kind, status, message), kind, extra)

    def _send(self, status: int, body: bytes, kind: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status == 503:
            self.send_header("Retry-After", "5")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: refused requests are reported through ``on_refused``."""

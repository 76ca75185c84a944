"""The dashboard with ``BATON_OTLP_PORT`` set: it runs the OTLP receiver, watches its spool,
and the Ingest page shows the endpoint and what the receiver took and refused."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.dashboard.test_pages import open_page, texts, unescape
from tests.otlp_helpers import Agent, expected_spans, spool_spans


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def metric(at: object, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)  # type: ignore[attr-defined]


def test_the_ingest_page_shows_the_receiver_and_its_counts(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    spool = tmp_path / "otlp"
    watched = tmp_path / "agents"
    watched.mkdir()
    monkeypatch.setenv("BATON_DB_URL", sqlite_url)
    monkeypatch.setenv("BATON_WATCH", str(watched))
    monkeypatch.setenv("BATON_OTLP_PORT", str(port))
    monkeypatch.setenv("BATON_OTLP_SPOOL", str(spool))
    at = open_page("views/ingest.py")
    endpoint = f"http://127.0.0.1:{port}/v1/traces"
    assert f"Endpoint {endpoint} · spool {spool}" in unescape(texts(at))
    assert [metric(at, m) for m in ("Requests", "Spans written", "Requests refused")] == ["0", "0", "0"]
    folders = at.dataframe[0].value["path"].tolist()
    assert folders == [str(watched), str(spool)]

    agent = Agent(endpoint)
    agent.run_agent(tools=2)
    finished = agent.finish()
    assert spool_spans(spool) == expected_spans(finished)
    request = urllib.request.Request(endpoint, data=b"{}", headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 415

    at.run()
    assert [metric(at, m) for m in ("Requests", "Spans written", "Requests refused", "Spans rejected")] == [
        "1",
        "5",
        "1",
        "0",
    ]
    assert "Last refused: 415" in unescape(texts(at))


def test_without_the_variable_the_page_says_how_to_turn_it_on(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATON_DB_URL", sqlite_url)
    monkeypatch.setenv("BATON_WATCH", str(tmp_path))
    monkeypatch.delenv("BATON_OTLP_PORT", raising=False)
    at = open_page("views/ingest.py")
    assert "Set BATON_OTLP_PORT=4318 to receive OpenTelemetry traces here" in unescape(texts(at))


def test_a_port_already_taken_is_shown_not_fatal(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("BATON_DB_URL", sqlite_url)
        monkeypatch.setenv("BATON_WATCH", str(tmp_path / "agents"))
        monkeypatch.setenv("BATON_OTLP_PORT", str(taken.getsockname()[1]))
        monkeypatch.setenv("BATON_OTLP_SPOOL", str(tmp_path / "otlp"))
        at = open_page("views/ingest.py")
    assert "the OTLP receiver did not start" in unescape(texts(at))
    assert [m.label for m in at.metric][:1] == ["Watcher"]

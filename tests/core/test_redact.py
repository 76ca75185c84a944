"""Secrets are replaced by a marker and reported by JSON path; ordinary text is left alone."""

from __future__ import annotations

import json

import pytest

from core.resume.redact import is_secret_key, redact

# One example of every credential kind the issue lists (all fake).
SECRETS = {
    "openai": "sk-proj-Q3xv7H2kLmN9pR4sT6uW8yZ0aB1cD3eF5gH7iJ9kL",
    "anthropic": "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd",
    "google": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7",
    "github": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7x\nq8Yb\n-----END RSA PRIVATE KEY-----",
}

ORDINARY = [
    "Alice is on call this week.",
    "The password reset flow needs a token from the user; see the runbook.",
    "Lock timeout on table invoices after 30s while applying 0702 (2/2 attempts)",
    "LLM call failed: Error code: 429 - Rate limit reached for gpt-4o-mini",
    '{"thought": "Clean the build dir.", "action": "shell", "args": {"command": "rm -rf build/"}}',
    "0a4516fd-ad5c-4de9-b711-23c347dbc5cc",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "Use the max_tokens setting; we spent 4,235 tokens in and 512 tokens out.",
    "https://example.com/docs/api-keys explains how keys rotate",
    "Observation: {'topic': 'gpu-driver', 'facts': ['gpu-driver: fact A'], 'source': 'kb://gpu-driver'}",
    "max token: 2048",
    "pwd: /home/user/project",
    '{"pwd": "/home/user/project", "cmd": "ls"}',
]


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_credential_kind_is_redacted_inside_text(kind: str) -> None:
    secret = SECRETS[kind]
    doc = {"context": {"notes": [f"config loaded; value {secret} (do not share)"]}}
    out, report = redact(doc)
    text = out["context"]["notes"][0]
    assert secret not in json.dumps(out)
    assert (
        "[REDACTED:" in text and text.startswith("config loaded; value ") and text.endswith("(do not share)")
    )
    assert report.count >= 1 and report.as_dict()["paths"][0] == "$.context.notes[0]"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
        "connect to postgres://app:Sup3rS3cret!@db.internal:5432/app",
        "password=correct-horse-battery",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ],
)
def test_bearer_tokens_passwords_and_cloud_secrets_in_text(text: str) -> None:
    out, report = redact({"log": text})
    assert report.count == 1
    for fragment in (
        "abcdefghijklmnopqrstuvwxyz012345",
        "Sup3rS3cret!",
        "correct-horse-battery",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ):
        assert fragment not in out["log"]


def test_values_under_secret_named_keys_are_replaced_whole() -> None:
    doc = {
        "api_key": "short",
        "headers": {"Authorization": "Token 123", "X-Api-Key": "k"},
        "db": {"password": "hunter2", "client_secret": 12345, "credentials": {"user": "u", "pin": "0000"}},
        "token_count": 219,
        "max_tokens": 4000,
        "tokens_in": 228,
        "secret_santa": False,
    }
    out, report = redact(doc)
    assert out["api_key"].startswith("[REDACTED:")
    assert out["headers"]["Authorization"].startswith("[REDACTED:")
    assert out["headers"]["X-Api-Key"].startswith("[REDACTED:")
    assert out["db"]["password"].startswith("[REDACTED:")
    assert out["db"]["client_secret"].startswith("[REDACTED:")
    assert out["db"]["credentials"] == {"user": "[REDACTED:secret-field]", "pin": "[REDACTED:secret-field]"}
    assert (out["token_count"], out["max_tokens"], out["tokens_in"]) == (219, 4000, 228)
    assert report.count == 7
    assert "$.db.credentials.pin" in report.as_dict()["paths"]
    assert doc["api_key"] == "short"  # the input is not modified


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_alone(text: str) -> None:
    out, report = redact({"message": text, "list": [text]})
    assert out == {"message": text, "list": [text]}
    assert report.count == 0


def test_key_names() -> None:
    assert all(
        is_secret_key(k)
        for k in (
            "password",
            "apiKey",
            "api-key",
            "OPENAI_API_KEY",
            "access_token",
            "Authorization",
            "client_secret",
            "private_key",
            "aws_secret_access_key",
        )
    )
    assert not any(
        is_secret_key(k)
        for k in (
            "token_count",
            "max_tokens",
            "tokens_out",
            "prompt_tokens",
            "checkpoint_id",
            "secret_santa",
            "approval_id",
            "keyboard",
        )
    )

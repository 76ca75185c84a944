"""Secrets redaction for exported documents.

Every string in a document is scanned, object keys included; a value that looks like a
credential is replaced by a marker naming its kind, and every replacement is reported by
JSON path, so the user sees what was removed and where. A key that holds a credential
(``{"sk-proj-...": 1}``) becomes its marker, and the paths name the member by its new key
(``$.usage['[REDACTED:openai-api-key]']``), never by the secret; two keys that redact to the
same marker stay two members (``[REDACTED:openai-api-key]#2``). Values under keys named like a secret (``password``,
``api_key``, ``authorization``, ...) are replaced whole. Ordinary prose passes untouched:
the patterns are anchored on the shapes providers give their keys, and detect-secrets'
entropy heuristics (which flag UUIDs and hashes) are not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MARKER = "[REDACTED:{kind}]"

# (kind, pattern): the whole match is replaced unless the pattern has a group named "secret".
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)",
            re.S,
        ),
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}")),
    ("anthropic-api-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai-api-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b")),
    (
        "aws-secret-key",
        re.compile(r"(?i)aws.{0,20}?(?:secret|sk).{0,20}?['\"=:\s]\s*['\"]?(?P<secret>[A-Za-z0-9/+=]{40})\b"),
    ),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("stripe-key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("groq-api-key", re.compile(r"\bgsk_[A-Za-z0-9]{40,}")),
    ("bearer-token", re.compile(r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/=-]{12,})")),
    ("basic-auth", re.compile(r"(?i)\bbasic\s+(?P<secret>[A-Za-z0-9+/]{16,}={0,2})")),
    ("url-password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<secret>[^\s@/]{3,})@")),
    (
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|passphrase|secret|client_secret|api[_-]?key|access[_-]?token"
            r"|auth[_-]?token|token)\b\s*[:=]\s*['\"]?"
            # not a count ("max token: 2048") nor a path ("pwd: /home/me")
            r"(?![0-9]+\b)(?![/~])(?P<secret>[^\s'\",;]{4,})"
        ),
    ),
]

# Provider keys are long runs of key characters; text without one cannot hold them (cheap check).
LONG_RUN = re.compile(r"[A-Za-z0-9_-]{16}")
TOKEN_SHAPED = {
    "jwt",
    "anthropic-api-key",
    "openai-api-key",
    "google-api-key",
    "aws-access-key",
    "github-token",
    "gitlab-token",
    "slack-token",
    "stripe-key",
    "huggingface-token",
    "groq-api-key",
}

SECRET_WORDS = {
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "authorization",
    "credential",
    "credentials",
    "cookie",
    "privatekey",
}
SECRET_PAIRS = {
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("auth", "key"),
    ("session", "key"),
    ("signing", "key"),
    ("encryption", "key"),
}

# detect-secrets plugins that look for a provider's key format (not entropy, not IP addresses).
_DETECT_SECRETS_SKIP = {
    "Base64HighEntropyString",
    "HexHighEntropyString",
    "IPPublicDetector",
    "KeywordDetector",
}


@dataclass
class Redaction:
    path: str
    kind: str


@dataclass
class RedactionReport:
    enabled: bool = True
    redactions: list[Redaction] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.redactions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "count": self.count,
            "paths": [r.path for r in self.redactions],
            "kinds": sorted({r.kind for r in self.redactions}),
        }


def _words(key: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def is_secret_key(key: str) -> bool:
    """``api_key``, ``X-Api-Key``, ``clientSecret``, ``password`` yes; ``token_count``,
    ``max_tokens``, ``tokens_in`` no (the last word decides)."""
    words = _words(key)
    if not words:
        return False
    if words[-1] in SECRET_WORDS or "".join(words[-2:]) in SECRET_WORDS:
        return True
    return len(words) >= 2 and (words[-2], words[-1]) in SECRET_PAIRS


@lru_cache(maxsize=1)
def _detect_secrets_plugins() -> tuple[Any, ...]:
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:  # pragma: no cover - it is a declared dependency
        return ()
    return tuple(
        cls()
        for cls in get_mapping_from_secret_type_to_class().values()
        if cls.__name__ not in _DETECT_SECRETS_SKIP
    )


def _detect_secrets_values(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for plugin in _detect_secrets_plugins():  # their patterns are not line-anchored: one call per text
        try:
            secrets = plugin.analyze_line(filename="export.txt", line=text, line_number=1)
        except Exception:  # a plugin bug must not stop an export
            continue
        for secret in secrets:
            value = secret.secret_value
            if value and len(value) >= 8:
                kind = re.sub(r"[^a-z0-9]+", "-", secret.type.lower()).strip("-")
                found.append((kind, value))
    return found


def redact_text(text: str) -> tuple[str, list[str]]:
    """Replace credential-looking parts of ``text``; return the new text and the kinds found."""
    kinds: list[str] = []
    long_run = LONG_RUN.search(text) is not None
    for kind, pattern in PATTERNS:
        if kind in TOKEN_SHAPED and not long_run:
            continue  # no run of 16 key characters: no provider key can be in this text

        def replace(match: re.Match[str], kind: str = kind) -> str:
            kinds.append(kind)
            marker = MARKER.format(kind=kind)
            if "secret" in match.re.groupindex and match.group("secret") is not None:
                start, end = match.span("secret")
                base = match.start()
                whole = match.group(0)
                return whole[: start - base] + marker + whole[end - base :]
            return marker

        text = pattern.sub(replace, text)
    for kind, value in _detect_secrets_values(text):
        if value in text and "[REDACTED:" not in value:
            text = text.replace(value, MARKER.format(kind=kind))
            kinds.append(kind)
    return text, kinds


@lru_cache(maxsize=4096)
def _redact_key(key: str) -> tuple[str, tuple[str, ...]]:
    """``redact_text`` of an object key, cached: a document repeats the same few keys
    ("role", "content") in every message."""
    text, kinds = redact_text(key)
    return text, tuple(kinds)


def _free_key(key: str, taken: dict[Any, Any], original: dict[Any, Any]) -> str:
    """``key``, or ``key#2``, ``key#3`` ...: the first name neither written yet nor still to
    come among the original keys, so that no member overwrites another."""
    candidate, n = key, 1
    while candidate in taken or candidate in original:
        n += 1
        candidate = f"{key}#{n}"
    return candidate


def _child(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = str(key)
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{path}[{key!r}]"


def redact(
    value: Any, report: RedactionReport | None = None, path: str = "$", secret: bool = False
) -> tuple[Any, RedactionReport]:
    """Return a redacted deep copy of ``value`` and the report (paths are JSON paths)."""
    report = report if report is not None else RedactionReport()
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            name = key
            if isinstance(key, str) and key:
                text, kinds = _redact_key(key)
                if kinds:
                    name = _free_key(text, out, value)
                    report.redactions.extend(Redaction(_child(path, name), kind) for kind in kinds)
            out[name] = redact(item, report, _child(path, name), secret or is_secret_key(str(key)))[0]
        return out, report
    if isinstance(value, list):
        return [redact(item, report, _child(path, i), secret)[0] for i, item in enumerate(value)], report
    if secret and (
        isinstance(value, str)
        and value.strip()
        or isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        report.redactions.append(Redaction(path, "secret-field"))
        return MARKER.format(kind="secret-field"), report
    if isinstance(value, str) and value:
        text, kinds = redact_text(value)
        for kind in kinds:
            report.redactions.append(Redaction(path, kind))
        return text, report
    return value, report

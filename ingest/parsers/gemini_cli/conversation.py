"""A Gemini CLI conversation rebuilt from its records, as ``chatRecordingService.ts``
``loadConversationRecord`` does: the first record with a ``sessionId`` is the metadata; a
message re-appended with the same ``id`` replaces the earlier one in place (the last wins:
tokens arrive later); ``{"$set": {...}}`` patches the metadata; ``{"$rewindTo": id}`` drops
that message and everything after it. Dropped messages are kept aside (``rewound``): they
were billed, and their prompts show as the dead branch of a fork."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Conversation:
    metadata: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # live, in order
    lines: dict[str, int] = field(default_factory=dict)  # message id -> line it was last written at
    rewound: list[tuple[dict[str, Any], int, str | None]] = field(default_factory=list)  # (msg, line, before)
    others: list[tuple[int, Any]] = field(default_factory=list)  # records of no known shape, kept raw

    def add(self, number: int, value: Any) -> None:
        if not isinstance(value, dict):
            self.others.append((number, value))
        elif isinstance(value.get("$set"), dict):
            self.metadata.update(value["$set"])
        elif "$rewindTo" in value:
            self.rewind(str(value["$rewindTo"]))
        elif isinstance(value.get("id"), str) and isinstance(value.get("type"), str):
            self.message(number, value)
        elif isinstance(value.get("sessionId"), str) and not self.metadata:
            self.metadata = dict(value)
        elif isinstance(value.get("sessionId"), str):
            self.metadata.update(value)
        else:
            self.others.append((number, value))

    def message(self, number: int, value: dict[str, Any]) -> None:
        self.messages[value["id"]] = value  # a re-appended id keeps its place
        self.lines[value["id"]] = number

    def rewind(self, target: str) -> None:
        if target not in self.messages:
            return
        ids = list(self.messages)
        cut = ids.index(target)
        before = ids[cut - 1] if cut else None
        for dropped in ids[cut:]:
            self.rewound.append((self.messages.pop(dropped), self.lines.pop(dropped), before))


def from_document(document: dict[str, Any]) -> Conversation:
    """The legacy single ``.json`` session: ``{sessionId, ..., messages: [...]}``."""
    conversation = Conversation(metadata={k: v for k, v in document.items() if k != "messages"})
    for index, message in enumerate(document.get("messages") or []):
        if (
            isinstance(message, dict)
            and isinstance(message.get("id"), str)
            and isinstance(message.get("type"), str)
        ):
            conversation.message(index, message)
        else:
            conversation.others.append((index, message))
    return conversation

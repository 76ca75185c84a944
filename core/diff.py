"""Field-level diff of two checkpoint documents (or any two JSON values).

Objects are compared key by key. Lists are aligned like text lines (difflib), so messages
appended to a transcript show as *added* at their index instead of every later element
"changing"; a block replaced by a block of the same length is compared element by element.
A value that leaves one list and appears in another (a step moving from ``remaining_steps``
to ``completed_steps``) is reported once, as *moved*.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import orjson

KINDS = ("added", "removed", "changed", "moved")


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # one of KINDS
    path: str  # where the value is in the newer document (the older one for "removed")
    old: Any = None
    new: Any = None
    from_path: str | None = None  # for "moved": where it was in the older document

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "from": self.from_path,
            "old": self.old,
            "new": self.new,
        }


def _key(value: Any) -> bytes:
    """A canonical form so that equal JSON values compare equal whatever their key order."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    except TypeError:
        return repr(value).encode()


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    simple = text.replace("_", "a").replace("-", "a").isalnum()
    name = text if simple else orjson.dumps(text).decode()
    return f"{path}.{name}" if path else name


def _walk(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                out.append(Change("removed", _join(path, key), old=old[key]))
        for key in new:
            if key not in old:
                out.append(Change("added", _join(path, key), new=new[key]))
            else:
                _walk(old[key], new[key], _join(path, key), out)
        return
    if isinstance(old, list) and isinstance(new, list):
        _walk_list(old, new, path, out)
        return
    if _key(old) != _key(new):
        out.append(Change("changed", path or "(document)", old=old, new=new))


def _walk_list(old: list[Any], new: list[Any], path: str, out: list[Change]) -> None:
    old_keys = [_key(v) for v in old]
    new_keys = [_key(v) for v in new]
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                _walk(old[i1 + offset], new[j1 + offset], _join(path, j1 + offset), out)
            continue
        if tag in ("delete", "replace"):
            out.extend(Change("removed", _join(path, i), old=old[i]) for i in range(i1, i2))
        if tag in ("insert", "replace"):
            out.extend(Change("added", _join(path, j), new=new[j]) for j in range(j1, j2))


def _pair_moves(changes: list[Change]) -> list[Change]:
    """A removed list element equal to an added one elsewhere becomes one "moved" change."""
    added: dict[bytes, list[int]] = {}
    for index, change in enumerate(changes):
        if change.kind == "added" and change.path.endswith("]"):
            added.setdefault(_key(change.new), []).append(index)
    merged: dict[int, Change] = {}
    dropped: set[int] = set()
    for index, change in enumerate(changes):
        if change.kind != "removed" or not change.path.endswith("]"):
            continue
        candidates = [i for i in added.get(_key(change.old), []) if i not in dropped]
        elsewhere = [i for i in candidates if _list_of(changes[i].path) != _list_of(change.path)]
        target = (elsewhere or candidates or [None])[0]
        if target is None:
            continue
        dropped.add(target)
        merged[index] = Change(
            "moved", changes[target].path, old=change.old, new=changes[target].new, from_path=change.path
        )
    return [merged.get(i, c) for i, c in enumerate(changes) if i not in dropped]


def _list_of(path: str) -> str:
    return path[: path.rfind("[")]


def diff_documents(old: Any, new: Any) -> list[Change]:
    """Changes that turn ``old`` into ``new``, in document order of ``new``."""
    out: list[Change] = []
    _walk(old, new, "", out)
    return _pair_moves(out)


def summarize(changes: list[Change]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for change in changes:
        counts[change.kind] += 1
    return counts

"""The device body checks are written twice: ``_plain`` (one walk, no paths: the common case of
every signed request) and ``_too_deep``/``_unstorable`` (which name the field when it fails).
Random bodies pin the two to the same verdict."""

from __future__ import annotations

import random
from typing import Any

from devices import protocol
from devices.protocol import MAX_DEPTH, _plain, _too_deep, _unstorable

ODD_TEXTS = ("ok", "", "a\x00b", "\ud800", "打卡", "x" * 40)
ODD_NUMBERS = (0, 1.5, -3, float("nan"), float("inf"), float("-inf"), True, None)


def _body(rng: random.Random, depth: int) -> Any:
    """A JSON-like value: mostly plain, sometimes nested past MAX_DEPTH or holding an odd text,
    key or number somewhere."""
    roll = rng.random()
    if depth < MAX_DEPTH + 3 and roll < (0.97 if depth < 3 else 0.45):
        if rng.random() < 0.5:
            return [_body(rng, depth + 1) for _ in range(rng.randint(0, 3))]
        keys = [rng.choice(ODD_TEXTS if rng.random() < 0.05 else ("a", "b", "c", "punches"))]
        keys += [f"k{i}" for i in range(rng.randint(0, 2))]
        return {k: _body(rng, depth + 1) for k in keys}
    if rng.random() < 0.5:
        return rng.choice(ODD_TEXTS if rng.random() < 0.3 else ("ok",))
    return rng.choice(ODD_NUMBERS if rng.random() < 0.3 else (1, 2.5))


def _deep(levels: int, leaf: Any) -> Any:
    value = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"x": value}
    return value


def test_plain_agrees_with_the_naming_walks() -> None:
    rng = random.Random(20261130)
    bodies = [_body(rng, 0) for _ in range(20_000)]
    bodies += [_deep(n, leaf) for n in range(MAX_DEPTH - 2, MAX_DEPTH + 3) for leaf in ODD_NUMBERS]
    verdicts = {True: 0, False: 0}
    for body in bodies:
        named = _too_deep(body, "") is None and _unstorable(body, "") is None
        assert _plain(body) is named, body
        verdicts[named] += 1
    # Both verdicts are well represented, each kind of problem among the refusals.
    assert min(verdicts.values()) > 1_000, verdicts
    refused = [b for b in bodies if not _plain(b)]
    assert any(_too_deep(b, "") is not None for b in refused)
    assert {_unstorable(b, "")[1] for b in refused if _unstorable(b, "")} == {  # type: ignore[index]
        protocol.NOT_FINITE,
        protocol.NOT_STORABLE,
    }

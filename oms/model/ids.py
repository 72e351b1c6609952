"""Identifier generation: unique across restarts, valid as Binance client order ids."""

from __future__ import annotations

import itertools
import secrets
import string
import time

__all__ = ["IdGenerator"]

_ALPHABET = string.digits + string.ascii_lowercase


def _base36(value: int) -> str:
    out = ""
    while True:
        value, digit = divmod(value, 36)
        out = _ALPHABET[digit] + out
        if value == 0:
            return out


class IdGenerator:
    """Makes ids like ``dmc-lq3x9a-1f``: prefix, a per-process token, a counter (<= 36 chars).

    The token combines the start time and random bits so two processes never collide; pass
    ``token`` for deterministic ids in tests and backtests.
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token or _base36(time.time_ns() // 1_000_000) + secrets.token_hex(2)
        self._counter = itertools.count(1)

    def next(self, prefix: str) -> str:
        """A new id with ``prefix`` (Binance's pattern: ^[.A-Z:/a-z0-9_-]{1,36}$)."""
        return f"{prefix}-{self.token}-{_base36(next(self._counter))}"

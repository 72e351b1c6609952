"""The paper venue's spot account: free and locked amount per asset, as Binance keeps it.

An order locks what it may spend when it reaches the exchange (a sell its base quantity, a buy
its quote cost); its fills spend from the lock and credit the other asset; its end unlocks the
rest. Nothing here ever goes below zero: a lock that does not fit is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from oms.model.enums import Side
from oms.venues.base import Balance
from oms.venues.paper_state import WorkingOrder

__all__ = ["INSUFFICIENT_BALANCE", "SpotLedger"]

_ZERO = Decimal(0)

# Binance's answer to an order the free balance does not cover
INSUFFICIENT_BALANCE = (-2010, "Account has insufficient balance for requested action.")


class SpotLedger:
    """Free and locked amount per asset; unknown assets hold zero."""

    __slots__ = ("_free", "_locked")

    def __init__(self, totals: Mapping[str, Decimal]) -> None:
        self._free: dict[str, Decimal] = {}
        self._locked: dict[str, Decimal] = {}
        self.reset(totals)

    def reset(self, totals: Mapping[str, Decimal]) -> None:
        """Make each asset's total ``totals[asset]`` (0 if absent); open orders keep their locks.

        Raises ValueError (and changes nothing) for a negative total or one below its lock.
        """
        free: dict[str, Decimal] = {}
        for asset in set(totals) | set(self._locked):
            total = Decimal(totals.get(asset, _ZERO))
            locked = self._locked.get(asset, _ZERO)
            if total < 0:
                raise ValueError(f"{asset}: a spot balance is never negative (total={total})")
            if total < locked:
                raise ValueError(f"{asset}: total={total} below what open orders lock ({locked})")
            free[asset] = total - locked
        self._free = free

    def free(self, asset: str) -> Decimal:
        """What ``asset`` has free to trade."""
        return self._free.get(asset, _ZERO)

    def lock(self, asset: str, amount: Decimal) -> bool:
        """Move ``amount`` of ``asset`` from free to locked; False (nothing moved) if short."""
        free = self._free.get(asset, _ZERO)
        if amount > free:
            return False
        self._free[asset] = free - amount
        self._locked[asset] = self._locked.get(asset, _ZERO) + amount
        return True

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` of ``asset`` back from locked to free."""
        if amount:
            left = self._locked[asset] - amount
            self._locked[asset] = left if left else _ZERO  # no "0E-7" zeros in reports
            self._free[asset] = self._free.get(asset, _ZERO) + amount

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` (negative: take it) to the free balance of ``asset``."""
        self._free[asset] = self._free.get(asset, _ZERO) + amount

    def reserve(self, w: WorkingOrder, asset: str, amount: Decimal, unit: Decimal) -> bool:
        """Lock ``amount`` of ``asset`` for order ``w``; each unit it fills releases at least
        ``unit`` (0: what the fill spends). False, nothing locked, if the free balance is short."""
        if not self.lock(asset, amount):
            return False
        w.lock_asset, w.locked, w.lock_unit = asset, amount, unit
        return True

    def settle(self, w: WorkingOrder, base: str, quote: str, quantity: Decimal,
               notional: Decimal, fee: Decimal) -> None:
        """Book one fill of ``w`` (fee paid in quote, as the OMS's Account does): spend from the
        order's lock, credit the asset it receives."""
        if w.order.side is Side.BUY:
            spent = notional + fee
            release = min(w.locked, max(spent, quantity * w.lock_unit))
            self.unlock(quote, release)
            self.credit(quote, -spent)
            self.credit(base, quantity)
        else:
            release = min(w.locked, quantity)
            self.unlock(base, release)
            self.credit(base, -quantity)
            self.credit(quote, notional - fee)
        w.locked -= release

    def release(self, w: WorkingOrder) -> None:
        """Unlock what ended order ``w`` still holds."""
        if w.locked:
            self.unlock(w.lock_asset, w.locked)
            w.locked = _ZERO

    def snapshot(self) -> dict[str, Balance]:
        """asset -> Balance(free, locked), for every asset held since the last ``reset``."""
        return {asset: Balance(self._free.get(asset, _ZERO), self._locked.get(asset, _ZERO))
                for asset in sorted(set(self._free) | set(self._locked))}

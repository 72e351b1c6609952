"""Sessions and parents: opening an execution session, creating its parents (each with its
pre-trade estimate, stored beside it), closing it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from oms.algos.registry import create_algo
from oms.algos.selection import select_algo
from oms.config import Settings
from oms.engine.lifecycle import OrderLifecycle
from oms.engine.quotes import QuoteBoard
from oms.errors import TradingHalted
from oms.journal import Journal
from oms.model import AlgoName, IdGenerator, ParentOrder, Side, TradingState
from oms.model.filters import SymbolFilters
from oms.pretrade_cost import estimate_record, parent_cost

__all__ = ["SessionDesk", "SubmitResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The answer to a submit: the session, the parents created and the symbols skipped."""

    session_id: str
    parent_ids: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    algos: dict[str, tuple[str, str]] = field(default_factory=dict)  # parent -> (algo, reason)
    superseded: list[str] = field(default_factory=list)  # working parents this submit replaced
    sizing: dict[str, Any] | None = None  # an auto-sized signal's computation (oms.sizing)


class SessionDesk:
    """Opens sessions, creates parents (resolving ``auto``) and closes finished sessions."""

    def __init__(self, *, settings: Settings, ids: IdGenerator, journal: Journal,
                 quotes: QuoteBoard, lifecycle: OrderLifecycle, venue_name: str,
                 trading_state: Callable[[], TradingState],
                 on_session_ended: Callable[[str, datetime], None]) -> None:
        self.settings = settings
        self.ids = ids
        self.journal = journal
        self.quotes = quotes
        self.lifecycle = lifecycle
        self.venue_name = venue_name
        self._trading_state = trading_state
        self._on_session_ended = on_session_ended
        self._seq = 0

    def ensure_trading(self) -> None:
        """Raise TradingHalted while the account is HALTED."""
        if self._trading_state() is TradingState.HALTED:
            raise TradingHalted("trading is HALTED; resume with a reason before submitting")

    def open_session(self, kind: str, now: datetime, actor: str, targets: dict[str, Any],
                     params: dict[str, Any]) -> str:
        """Create an execution session row and return its id."""
        session_id = self.ids.next("s")
        self.journal.session({"session_id": session_id, "kind": kind, "created_at": now,
                              "ended_at": None, "venue": self.venue_name, "actor": actor,
                              "targets": targets, "params": params})
        self.journal.audit(now, "SessionStarted", session_id, {"kind": kind, **params},
                           actor=actor)
        return session_id

    def new_parent(self, session_id: str, symbol: str, side: Side, quantity: Decimal,
                   algo: AlgoName, duration_minutes: float, urgency: float, now: datetime, *,
                   confidence: float | None = None, limit_price: Decimal | None = None,
                   options: dict[str, Any] | None = None) -> ParentOrder:
        """Create a parent order (resolving ``auto``), start its algorithm, return it."""
        mid = self.quotes.mid(symbol)
        reason = "chosen by the trader"
        if algo is AlgoName.AUTO:
            size_usd = quantity * mid if mid is not None else Decimal(0)
            algo, reason = select_algo(size_usd, urgency, confidence)
        self._seq += 1
        parent = ParentOrder(
            parent_id=self.ids.next("p"), session_id=session_id, symbol=symbol, side=side,
            quantity=quantity, algo=algo, created_at=now, duration_minutes=duration_minutes,
            urgency=urgency, algo_reason=reason,
            algo_params={"max_child_notional": str(self.settings.risk.max_order_notional_usd),
                         **(options or {})},
            limit_price=limit_price, decision_price=mid,
            seed=self.settings.seed * 1_000_003 + self._seq)
        filters = self.lifecycle.venue.filters(symbol)
        execution = create_algo(parent, seed=parent.seed or 0, filters=filters,
                                **parent.algo_params)
        estimate = self._estimate(parent, filters)  # after its options are known to be valid
        self.lifecycle.start_parent(parent, execution, now)
        if estimate is not None:
            self.journal.parent_estimate(parent.parent_id, now, estimate)
        return parent

    def _estimate(self, parent: ParentOrder, filters: SymbolFilters) -> dict[str, Any] | None:
        """The pre-trade estimate of ``parent`` at its creation, as the preview computes it
        (``oms.pretrade_cost.parent_cost`` on this tick's quote); None without a quote or
        when it cannot be computed: an estimate never stops a parent."""
        quote = self.quotes.quote(parent.symbol)
        if quote is None or quote.mid <= 0:
            return None
        try:
            return estimate_record(parent, parent_cost(parent, quote, filters, self.settings,
                                                       mid=quote.mid))
        except Exception:  # the estimate is information; the parent must be created anyway
            log.exception("pre-trade estimate of %s failed", parent.parent_id)
            return None

    def session_finished(self, session_id: str, now: datetime) -> None:
        """All parents of a session ended: close it and queue its ExecutionReport."""
        self.journal.session_ended(session_id, now)
        self.journal.audit(now, "SessionEnded", session_id, {})
        self._on_session_ended(session_id, now)

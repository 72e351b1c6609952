"""SignalDesk: strategy signals in the engine. Entries complete before the next 15-minute UTC
boundary; every entry that filled is closed automatically, complete by 180 minutes after its first
fill, unless an exit signal for the symbol came first (timing and bookkeeping live in
oms.signals). After a restart ``restore`` reads back the entries still owed an exit.

A signal without ``size_usd`` is auto-sized (``oms.sizing.auto_size``: fractional Kelly scaled by
volatility targeting, capped by the risk limits) on the account's equity and the symbol's realised
volatility over the market's recent bars (the calibrated sigma when too few are known); the
computation is kept in the session's params and returned (``SubmitResult.sizing``). A dry run only
sizes: the signal preview calls the same function as the submit.

A signal never takes a spot account short: a SELL is clipped to what the account holds net of
what its open children may still sell (and refused when nothing is left)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from oms.commands import SubmitSignal
from oms.config import SizingSettings
from oms.engine.book import BookView
from oms.engine.quotes import QuoteBoard
from oms.engine.sessions import SessionDesk, SubmitResult
from oms.errors import FieldError, MarketClosed, OmsError, TradingHalted, ValidationError
from oms.market.calibration import CALIBRATION
from oms.market.types import Bar
from oms.model import AlgoName, Side
from oms.signals import (
    AUTO_EXIT_ACTOR,
    OpenEntry,
    SignalBook,
    entry_duration_minutes,
    exit_duration_minutes,
)
from oms.sizing import AutoSize, auto_size, realised_volatility
from oms.venues.filters import SymbolFilters

__all__ = ["DEFAULT_SIGMA_1M", "SignalDesk", "signal_sigma_1m"]

_ZERO = Decimal(0)
DEFAULT_SIGMA_1M = 0.001  # a symbol neither measured nor calibrated


def signal_sigma_1m(symbol: str, bars: list[Bar]) -> tuple[float, str]:
    """The symbol's 1-minute volatility and where it comes from: realised over ``bars`` (at
    least three positive closes), else the calibrated figure, else DEFAULT_SIGMA_1M."""
    closes = [b.close for b in bars if b.close > 0]
    if len(closes) >= 3:
        sigma = realised_volatility(closes, periods_per_year=1.0)
        if sigma > 0:
            return sigma, f"measured ({len(closes)} bars)"
    calibrated = CALIBRATION.get(symbol, {}).get("sigma_1m")
    if calibrated:
        return float(calibrated), "calibration"
    return DEFAULT_SIGMA_1M, "default"


class SignalDesk:
    """Turns signals into parent orders and schedules the automatic exits."""

    def __init__(self, *, sessions: SessionDesk, quotes: QuoteBoard, book: BookView,
                 filters: Callable[[str], SymbolFilters], position: Callable[[str], Decimal],
                 min_notional: Decimal, equity: Callable[[], Decimal] = lambda: _ZERO,
                 bars: Callable[[str, datetime, datetime], list[Bar]] = lambda s, a, b: [],
                 sizing: SizingSettings | None = None, cap_usd: Decimal = Decimal(5_000)) -> None:
        self.sessions = sessions
        self.equity = equity
        self.bars = bars
        self.sizing = sizing or SizingSettings()
        self.cap_usd = cap_usd
        self.quotes = quotes
        self.orders = book
        self.filters = filters
        self.position = position
        self.min_notional = min_notional
        self.book = SignalBook()

    def _quantity(self, symbol: str, size_usd: Decimal, field: str = "size_usd") -> Decimal:
        mid = self.quotes.mid(symbol)
        if mid is None:
            raise MarketClosed(f"{symbol}: no market price, signal not executed")
        step = self.filters(symbol).step_size
        quantity = (size_usd / mid / step).to_integral_value(ROUND_DOWN) * step
        if quantity * mid < self.min_notional:
            raise ValidationError(FieldError(
                field, f"{size_usd} USD is below the minimum notional {self.min_notional}"))
        return quantity

    def _sellable(self, symbol: str) -> Decimal:
        """Base quantity a SELL may still take: the position less what may still be sold."""
        return max(self.position(symbol) - self.orders.pending(symbol, Side.SELL), _ZERO)

    def auto_size(self, symbol: str, now: datetime) -> AutoSize:
        """The auto size of a signal on ``symbol`` now (module doc)."""
        cfg = self.sizing
        start = now - timedelta(minutes=cfg.volatility_lookback_minutes)
        try:
            bars = self.bars(symbol, start, now)
        except (OmsError, ValueError, KeyError):  # no history: the calibrated figure
            bars = []
        sigma, source = signal_sigma_1m(symbol, bars)
        return auto_size(equity=self.equity(), win_rate=cfg.win_rate,
                         payoff_ratio=cfg.payoff_ratio, kelly_fraction=cfg.kelly_fraction,
                         target_volatility=cfg.target_volatility, sigma_1m=sigma,
                         volatility_source=source, cap_usd=self.cap_usd,
                         max_leverage=cfg.max_leverage)

    def submit(self, command: SubmitSignal, now: datetime) -> SubmitResult:
        """Create the parent of an entry or exit signal (a dry run only sizes it)."""
        sized = None if command.size_usd is not None else self.auto_size(command.symbol, now)
        sizing = None if sized is None else sized.as_dict()
        if command.dry_run:
            return SubmitResult("", [], sizing=sizing)
        sessions = self.sessions
        sessions.ensure_trading()
        if sized is None:
            size_usd = command.size_usd or _ZERO
        else:
            size_usd = sized.size_usd
            if size_usd <= 0:
                raise ValidationError(FieldError(
                    "size", "auto size is 0: the configured edge (win rate, payoff ratio) "
                            "gives no Kelly stake"))
        quantity = self._quantity(command.symbol, size_usd,
                                  "size_usd" if sized is None else "size")
        if command.kind == "exit":
            closed = self.book.on_exit_signal(command.symbol)
            held = sum((e.quantity for e in closed if e.side is command.side.opposite), _ZERO)
            if held > 0:
                quantity = held
        if command.side is Side.SELL:
            sellable = self._sellable(command.symbol)
            if sellable <= 0:
                raise ValidationError(FieldError(
                    "side", f"SELL {command.symbol}: nothing to sell (position net of working "
                            f"sells is {sellable}); a spot account cannot go short"))
            quantity = min(quantity, sellable)
        duration = entry_duration_minutes(now)
        session_id = sessions.open_session(
            "signal", now, command.actor, {},
            {"symbol": command.symbol, "side": command.side.value, "kind": command.kind,
             "size_usd": str(size_usd), "size": "auto" if sized else "size_usd",
             "confidence": command.confidence, "urgency": command.urgency,
             "duration_minutes": round(duration, 3),
             **({"sizing": sizing} if sizing else {})})
        parent = sessions.new_parent(session_id, command.symbol, command.side, quantity,
                                     AlgoName.AUTO, duration, command.urgency, now,
                                     confidence=command.confidence)
        if command.kind == "entry":
            self.book.register_entry(parent.parent_id, parent.symbol, parent.side)
        return SubmitResult(session_id, [parent.parent_id], [],
                            {parent.parent_id: (parent.algo.value, parent.algo_reason)},
                            sizing=sizing)

    def restore(self, entries: list[OpenEntry]) -> None:
        """Entries a previous process left owed an automatic exit (read from the database)."""
        for entry in entries:
            self.book.restore(entry)

    def on_fill(self, parent_id: str, quantity: Decimal, ts: datetime) -> None:
        """A fill of any parent (entries are tracked, others ignored)."""
        self.book.on_entry_fill(parent_id, quantity, ts)

    def on_parent_ended(self, parent_id: str) -> None:
        """A parent ended (an entry that filled nothing needs no exit)."""
        self.book.on_entry_ended(parent_id)

    def on_tick(self, now: datetime) -> None:
        """Send the automatic exits that are due (a SELL exit never more than is held). While
        trading is HALTED they stay owed and go at the first tick after the resume (late: with
        the one-minute window of ``exit_duration_minutes``)."""
        due_at = self.book.next_due_at()
        if due_at is None or due_at > now:
            return
        sessions = self.sessions
        try:
            sessions.ensure_trading()
        except TradingHalted:
            return
        for due in self.book.due_exits(now):
            quantity = due.quantity
            if due.side is Side.SELL:
                quantity = min(quantity, self._sellable(due.symbol))
                if quantity <= 0:
                    continue
            session_id = sessions.open_session(
                "signal", now, AUTO_EXIT_ACTOR, {},
                {"symbol": due.symbol, "side": due.side.value, "kind": "exit",
                 "entry_parent_id": due.entry_parent_id, "reason": due.reason,
                 "complete_by": due.deadline.isoformat()})
            sessions.new_parent(session_id, due.symbol, due.side, quantity, AlgoName.AUTO,
                                exit_duration_minutes(now, due.deadline), 0.5, now)

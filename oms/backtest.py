"""``oms backtest``: one parent order through the real engine on replayed klines, or on a recorded
L2 book and its trades (``run_l2_backtest``), as fast as the CPU allows
(``oms.execution_harness``: TestClock loop, no scheduler), reported as an ExecutionReport."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from oms.clock import utc
from oms.config import Settings
from oms.errors import FieldError, ValidationError
from oms.execution_harness import ExecutionHarness, paper_venue
from oms.market.base import MarketData
from oms.market.klines import DEFAULT_CACHE, CacheChoice, kline_arrays
from oms.model import AlgoName, Side

__all__ = ["BACKTEST_EQUITY_SAMPLE_S", "HISTORY_BEFORE_START", "BacktestSpec", "L2BacktestSpec",
           "default_tick_seconds", "run_backtest", "run_l2_backtest"]

#: market history loaded before a kline backtest's start (the longest look-back of an algorithm)
HISTORY_BEFORE_START = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Order:
    """The order fields both kinds of backtest take, validated."""

    side: Side
    quantity: Decimal
    algo: AlgoName
    start: datetime | None
    duration_minutes: float


def _parse_order(errors: list[FieldError], *, side: str, quantity: str | Decimal, algo: str,
                 start: str | datetime | None, duration_minutes: float) -> _Order:
    """Validate the order fields, appending a FieldError per bad one (``start`` may be None)."""
    try:
        side_ = Side(side.upper())
    except ValueError:
        errors.append(FieldError("side", f"must be buy or sell, got {side!r}"))
        side_ = Side.BUY
    try:
        qty = Decimal(str(quantity))
        if not qty.is_finite() or qty <= 0:
            raise InvalidOperation
    except InvalidOperation:
        errors.append(FieldError("quantity", f"must be a positive number, got {quantity!r}"))
        qty = Decimal(0)
    try:
        algo_ = AlgoName(algo.lower())
    except ValueError:
        errors.append(FieldError("algo", f"unknown algorithm {algo!r}"))
        algo_ = AlgoName.TWAP
    begin: datetime | None = None
    if start is not None:
        try:
            begin = utc(start if isinstance(start, datetime) else datetime.fromisoformat(
                start.replace("Z", "+00:00")))
        except ValueError:
            errors.append(FieldError("start", f"must be ISO-8601 UTC, got {start!r}"))
    if duration_minutes <= 0:
        errors.append(FieldError("duration_minutes", "must be positive"))
    return _Order(side_, qty, algo_, begin, float(duration_minutes))


@dataclass(frozen=True, slots=True)
class BacktestSpec:
    """One backtest: which file, which order, which algorithm, when."""

    data: Path
    symbol: str
    side: Side
    quantity: Decimal
    algo: AlgoName
    start: datetime
    duration_minutes: float
    urgency: float = 0.5
    seed: int = 7
    algo_options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, *, data: Path | str, symbol: str, side: str, quantity: str | Decimal,
              algo: str, start: str | datetime, duration_minutes: float, urgency: float = 0.5,
              seed: int = 7) -> BacktestSpec:
        """Validate command-line values; raises ValidationError naming every bad field."""
        errors: list[FieldError] = []
        path = Path(data)
        if not path.exists():
            errors.append(FieldError("data", f"file {path} does not exist"))
        order = _parse_order(errors, side=side, quantity=quantity, algo=algo, start=start,
                             duration_minutes=duration_minutes)
        if errors:
            raise ValidationError(errors)
        assert order.start is not None  # a None start is an error above
        return cls(path, symbol.upper(), order.side, order.quantity, order.algo, order.start,
                   order.duration_minutes, urgency, seed)


@dataclass(frozen=True, slots=True)
class L2BacktestSpec:
    """One L2 replay backtest: the recording (depth snapshot, diffs, trades) and the order.
    ``symbol`` None: the recording's; ``start`` None: when the recorded book is first known."""

    book: Path
    depth: Path
    trades: Path
    symbol: str | None
    side: Side
    quantity: Decimal
    algo: AlgoName
    start: datetime | None
    duration_minutes: float
    urgency: float = 0.5
    seed: int = 7
    algo_options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, *, book: Path | str, depth: Path | str, trades: Path | str,
              symbol: str | None, side: str, quantity: str | Decimal, algo: str,
              start: str | datetime | None, duration_minutes: float, urgency: float = 0.5,
              seed: int = 7) -> L2BacktestSpec:
        """Validate command-line values (the files are read by ``run_l2_backtest``); raises
        ValidationError naming every bad field."""
        errors: list[FieldError] = []
        order = _parse_order(errors, side=side, quantity=quantity, algo=algo, start=start,
                             duration_minutes=duration_minutes)
        if errors:
            raise ValidationError(errors)
        return cls(Path(book), Path(depth), Path(trades), symbol.upper() if symbol else None,
                   order.side, order.quantity, order.algo, order.start, order.duration_minutes,
                   urgency, seed)


BACKTEST_EQUITY_SAMPLE_S = 60.0  # a replay's equity history: one sample a minute of market time


def default_tick_seconds(duration_minutes: float) -> float:
    """About 720 engine ticks per window, between 1 s and 60 s of market time each."""
    return min(60.0, max(1.0, duration_minutes * 60 / 720))


def _execute(market: MarketData, spec: BacktestSpec | L2BacktestSpec, symbol: str,
             start: datetime, *, until: datetime, tick_seconds: float,
             settings: Settings | None) -> dict[str, Any]:
    """Run the spec's parent on ``market`` from ``start`` (ticking up to ``until``) and build
    its ExecutionReport once the bar holding its last instant has completed."""
    base = settings or Settings()
    if "equity_sample_s" not in base.model_fields_set:  # nobody watches a replay's chart live
        base = base.model_copy(update={"equity_sample_s": BACKTEST_EQUITY_SAMPLE_S})
    holdings = {symbol: spec.quantity} if spec.side is Side.SELL else {}
    venue = paper_venue(base.paper, seed=spec.seed)
    if base.routing.venues:  # several paper venue profiles, routed (oms.venues.routed)
        from oms.venues.routed import routed_paper_venues

        venue = routed_paper_venues(base.routing, [symbol], base=base.paper, seed=spec.seed)
    with ExecutionHarness(market, start=start, symbols=[symbol], settings=base,
                          venue=venue, holdings=holdings,
                          seed=spec.seed, id_token="bt") as harness:
        submitted = harness.submit(symbol, spec.side, spec.quantity, spec.algo,
                                   spec.duration_minutes, urgency=spec.urgency,
                                   algo_options=dict(spec.algo_options), actor="backtest")
        harness.run(submitted.session_id, until=until, tick=timedelta(seconds=tick_seconds))
        # let the bar holding the parent's last instant complete, so the interval VWAP and TWAP
        # cover every bar of the window (the report stored at the session's end could not)
        harness.clock.advance(timedelta(seconds=61 - harness.now.second))
        harness.tick()
        return harness.engine.reports.build(submitted.session_id, harness.now)


def run_backtest(spec: BacktestSpec, *, tick_seconds: float | None = None,
                 settings: Settings | None = None,
                 kline_cache: CacheChoice = DEFAULT_CACHE) -> dict[str, Any]:
    """Run ``spec`` and return its ExecutionReport (with a ``backtest`` section). Size limits
    are lifted (``BACKTEST_LIMITS``); a sell starts holding what it sells. ``kline_cache``:
    where the parsed data file is cached (``oms.market.kline_cache``; None: parse it)."""
    if tick_seconds is None:
        tick_seconds = default_tick_seconds(spec.duration_minutes)
    from oms.market.replay import KlineReplayMarket

    wall_start = time.perf_counter()
    window_end = spec.start + timedelta(minutes=spec.duration_minutes)
    # a day of bars before the start (where the file has them): a VWAP's volume forecast reads
    # the last day, IS's volatility and the executor's volume the last hour; with fewer bars
    # they fall back to defaults (IS: 8 bps a minute) instead of measuring this market
    first, last = spec.start - HISTORY_BEFORE_START, window_end + timedelta(minutes=30)
    bars = kline_arrays(spec.data, start=first, end=last, cache=kline_cache)
    market = KlineReplayMarket(bars, seed=spec.seed, start=first, end=last)
    if spec.symbol not in market.symbols:
        raise ValidationError(FieldError("symbol", f"{spec.symbol} is not in {spec.data} "
                                                   f"(it holds {', '.join(market.symbols)})"))
    report = _execute(market, spec, spec.symbol, spec.start,
                      until=window_end + timedelta(minutes=10), tick_seconds=tick_seconds,
                      settings=settings)
    report["backtest"] = {
        "data": str(spec.data), "symbol": spec.symbol, "side": spec.side.value,
        "quantity": str(spec.quantity), "algo": spec.algo.value, "start": spec.start.isoformat(),
        "duration_minutes": spec.duration_minutes, "seed": spec.seed,
        "tick_seconds": tick_seconds,
        "wall_time_ms": round((time.perf_counter() - wall_start) * 1000, 1)}
    return report


def run_l2_backtest(spec: L2BacktestSpec, *, tick_seconds: float | None = None,
                    settings: Settings | None = None) -> dict[str, Any]:
    """Run ``spec`` on its recorded book and trades (oms.market.l2_replay) and return the
    ExecutionReport with a ``backtest`` section (``mode``: ``l2_replay``). The window must lie
    inside the recording; bad files, symbols or windows raise ValidationError naming the option."""
    from oms.market.l2_files import load_l2
    from oms.market.l2_replay import L2ReplayMarket

    wall_start = time.perf_counter()
    recording = load_l2(spec.book, spec.depth, spec.trades)
    symbol = spec.symbol or recording.symbol
    market = L2ReplayMarket({recording.symbol: recording})
    errors: list[FieldError] = []
    if symbol != recording.symbol:
        errors.append(FieldError("symbol", f"{symbol} is not in the recording (--book, --depth "
                                           f"and --trades hold {recording.symbol})"))
    start = spec.start or market.synced_at
    window_end = start + timedelta(minutes=spec.duration_minutes)
    span = f"the recording covers {market.synced_at.isoformat()} to {market.ends_at.isoformat()}"
    if not market.synced_at <= start < market.ends_at:
        errors.append(FieldError("start", f"{start.isoformat()} is outside the recording "
                                          f"({span}, from when its book can be built)"))
    elif window_end > market.ends_at:
        errors.append(FieldError("duration_minutes", f"the window ends at "
                                                     f"{window_end.isoformat()}, after the "
                                                     f"recording ({span})"))
    if errors:
        raise ValidationError(errors)
    if tick_seconds is None:
        tick_seconds = default_tick_seconds(spec.duration_minutes)
    report = _execute(market, spec, symbol, start, until=market.ends_at,
                      tick_seconds=tick_seconds, settings=settings)
    report["backtest"] = {
        "mode": "l2_replay", "book": str(spec.book), "depth": str(spec.depth),
        "trades": str(spec.trades), "symbol": symbol, "side": spec.side.value,
        "quantity": str(spec.quantity), "algo": spec.algo.value, "start": start.isoformat(),
        "duration_minutes": spec.duration_minutes, "seed": spec.seed,
        "tick_seconds": tick_seconds,
        "recording": {"book_from": market.synced_at.isoformat(),
                      "ends_at": market.ends_at.isoformat(),
                      "last_update_id": recording.last_update_id},
        "impact": "none: our trades do not move the recorded book; levels we took from stay "
                  "depleted until the recording updates them",
        "wall_time_ms": round((time.perf_counter() - wall_start) * 1000, 1)}
    return report

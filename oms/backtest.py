"""``oms backtest``: one parent order through the real engine on replayed klines, as fast as the
CPU allows (``oms.execution_harness``: TestClock loop, no scheduler), reported as an
ExecutionReport."""

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
from oms.market.klines import DEFAULT_CACHE, CacheChoice, kline_arrays
from oms.model import AlgoName, Side

__all__ = ["BacktestSpec", "default_tick_seconds", "run_backtest"]


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
        try:
            begin = start if isinstance(start, datetime) else datetime.fromisoformat(
                start.replace("Z", "+00:00"))
        except ValueError:
            errors.append(FieldError("start", f"must be ISO-8601 UTC, got {start!r}"))
            begin = datetime(1970, 1, 1)
        if duration_minutes <= 0:
            errors.append(FieldError("duration_minutes", "must be positive"))
        if errors:
            raise ValidationError(errors)
        return cls(path, symbol.upper(), side_, qty, algo_, utc(begin), float(duration_minutes),
                   urgency, seed)


def default_tick_seconds(duration_minutes: float) -> float:
    """About 720 engine ticks per window, between 1 s and 60 s of market time each."""
    return min(60.0, max(1.0, duration_minutes * 60 / 720))


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
    first, last = spec.start - timedelta(minutes=5), window_end + timedelta(minutes=30)
    bars = kline_arrays(spec.data, start=first, end=last, cache=kline_cache)
    market = KlineReplayMarket(bars, seed=spec.seed, start=first, end=last)
    if spec.symbol not in market.symbols:
        raise ValidationError(FieldError("symbol", f"{spec.symbol} is not in {spec.data} "
                                                   f"(it holds {', '.join(market.symbols)})"))
    base = settings or Settings()
    holdings = {spec.symbol: spec.quantity} if spec.side is Side.SELL else {}
    with ExecutionHarness(market, start=spec.start, symbols=[spec.symbol], settings=base,
                          venue=paper_venue(base.paper, seed=spec.seed), holdings=holdings,
                          seed=spec.seed, id_token="bt") as harness:
        submitted = harness.submit(spec.symbol, spec.side, spec.quantity, spec.algo,
                                   spec.duration_minutes, urgency=spec.urgency,
                                   algo_options=dict(spec.algo_options), actor="backtest")
        harness.run(submitted.session_id, until=window_end + timedelta(minutes=10),
                    tick=timedelta(seconds=tick_seconds))
        # let the bar holding the parent's last instant complete, so the interval VWAP and TWAP
        # cover every bar of the window (the report stored at the session's end could not)
        harness.clock.advance(timedelta(seconds=61 - harness.now.second))
        harness.tick()
        report = harness.engine.reports.build(submitted.session_id, harness.now)
    report["backtest"] = {
        "data": str(spec.data), "symbol": spec.symbol, "side": spec.side.value,
        "quantity": str(spec.quantity), "algo": spec.algo.value, "start": spec.start.isoformat(),
        "duration_minutes": spec.duration_minutes, "seed": spec.seed,
        "tick_seconds": tick_seconds,
        "wall_time_ms": round((time.perf_counter() - wall_start) * 1000, 1)}
    return report

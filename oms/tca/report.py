"""The ExecutionReport: one stable JSON document per execution session (report_version 1).

``build_execution_report`` analyses every parent (prices, fills, shortfall, child slippage) and
rolls them up into the session's summary, costs, TCA and quality. Impact is our own: the book
walked plus the mid our flow moved (``own_mid_impact``, whose source each parent and the summary
name in ``impact_source``: simulator, model, none or mixed); timing is the market's own move.
Every value is a JSON number, string, list, dict or null; times are ISO-8601 UTC
(``2024-01-02T10:00:00.000Z``). ``fills_csv`` renders the fills of a report as CSV. Formulas live
in measures, shortfall, own_impact and quality. The engine's report (oms.engine.reports) adds to
each parent its ``market_path`` and its ``estimate`` block (the pre-trade estimate stored at its
creation beside the realised cost, oms.tca.estimate_check; None without one, absent from reports
written before estimates were kept).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from oms.model.orders import ZERO, Fill
from oms.tca.inputs import ParentExecution, SessionExecution
from oms.tca.measures import (
    BPS,
    ChildSlippage,
    FillTotals,
    ReferencePrices,
    child_slippage,
    fill_rate,
    fill_totals,
    participation_rate,
    passive_ratio,
    percentile,
    reference_prices,
    safe_ratio,
    slippage_bps,
)
from oms.tca.quality import QualityScores, pooled_dispersion_bps, quality_scores
from oms.tca.shortfall import Shortfall, decompose, total_shortfall
from oms.tca.venues import venue_section

__all__ = [
    "FILL_CSV_COLUMNS",
    "REPORT_VERSION",
    "ParentAnalysis",
    "analyse_parent",
    "build_execution_report",
    "fills_csv",
    "iso_utc",
]

REPORT_VERSION = 1
FILL_CSV_COLUMNS = (
    "session_id",
    "parent_id",
    "symbol",
    "side",
    "time",
    "price",
    "quantity",
    "fee",
    "liquidity",
    "venue",
    "fill_id",
    "client_order_id",
    "mid_price",
    "half_spread",
)
_TCA_KEYS = (
    ("delay_cost_bps", "delay"),
    ("spread_cost_bps", "spread"),
    ("market_impact_bps", "market_impact"),
    ("timing_cost_bps", "timing"),
    ("fees_bps", "fees"),
    ("opportunity_cost_bps", "opportunity"),
)


def iso_utc(ts: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a ``Z``; naive times are taken as UTC; None stays None."""
    if ts is None:
        return None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class ParentAnalysis:
    """Everything TCA derives from one parent, before it is rendered to JSON."""

    parent: ParentExecution
    prices: ReferencePrices
    totals: FillTotals
    shortfall: Shortfall
    children: ChildSlippage

    @property
    def filled_decision_notional(self) -> Decimal:
        """Filled quantity valued at the decision mid (the base of per-executed-unit bps)."""
        return self.totals.quantity * self.prices.decision if self.prices.decision else ZERO

    @property
    def market_notional(self) -> float | None:
        """The market's traded value over the window: volume * VWAP (or our average price)."""
        volume = self.parent.market_volume
        price = self.parent.market_vwap or self.totals.avg_price or self.prices.arrival
        if volume is None or price is None or float(volume) <= 0:
            return None
        return float(volume) * float(price)


def analyse_parent(parent: ParentExecution) -> ParentAnalysis:
    """Resolve reference prices, sum the fills, decompose the shortfall, slice child slippage."""
    prices = reference_prices(parent)
    totals = fill_totals(parent.fills, prices.arrival, parent.unimpacted_mids)
    return ParentAnalysis(
        parent=parent,
        prices=prices,
        totals=totals,
        shortfall=decompose(parent, prices, totals),
        children=child_slippage(parent, prices.arrival),
    )


def _tca_bps(shortfall: Shortfall) -> dict[str, float]:
    total = shortfall.bps("total")
    out = {"implementation_shortfall_bps": total}
    out.update({key: shortfall.bps(name) for key, name in _TCA_KEYS})
    out["total_cost_bps"] = total
    out["own_mid_impact_bps"] = shortfall.bps("own_mid_impact")
    out["opportunity_since_arrival_bps"] = shortfall.bps("opportunity_since_arrival")
    return out


def _costs(shortfall: Shortfall) -> dict[str, float]:
    return {
        "total_cost_usd": float(shortfall.total),
        "total_cost_bps": shortfall.bps("total"),
        "fees_usd": float(shortfall.fees),
        "fees_bps": shortfall.bps("fees"),
        "spread_cost_usd": float(shortfall.spread),
        "spread_cost_bps": shortfall.bps("spread"),
        "market_impact_usd": float(shortfall.market_impact),
        "market_impact_bps": shortfall.bps("market_impact"),
        "delay_cost_usd": float(shortfall.delay),
        "delay_cost_bps": shortfall.bps("delay"),
        "timing_cost_usd": float(shortfall.timing),
        "timing_cost_bps": shortfall.bps("timing"),
        "opportunity_cost_usd": float(shortfall.opportunity),
        "opportunity_cost_bps": shortfall.bps("opportunity"),
        "own_mid_impact_usd": float(shortfall.own_mid_impact),
        "own_mid_impact_bps": shortfall.bps("own_mid_impact"),
        "opportunity_since_arrival_usd": float(shortfall.opportunity_since_arrival),
        "opportunity_since_arrival_bps": shortfall.bps("opportunity_since_arrival"),
        "executed_cost_usd": float(shortfall.executed),
        "decision_notional_usd": float(shortfall.decision_notional),
    }


def _latency(ack_ms: Sequence[float], fill_ms: Sequence[float]) -> dict[str, float | None]:
    return {
        "ack_p50_ms": percentile(ack_ms, 50),
        "ack_p95_ms": percentile(ack_ms, 95),
        "fill_p50_ms": percentile(fill_ms, 50),
        "fill_p95_ms": percentile(fill_ms, 95),
    }


def _quality(
    analyses: Sequence[ParentAnalysis], shortfall: Shortfall, latency: dict[str, float | None]
) -> QualityScores:
    filled_base = float(sum((a.filled_decision_notional for a in analyses), ZERO))
    latency_ms = latency["ack_p95_ms"]
    if latency_ms is None:
        latency_ms = latency["fill_p95_ms"]
    counted = float(shortfall.executed + shortfall.opportunity_since_arrival)
    return quality_scores(
        cost_bps=safe_ratio(counted, float(shortfall.decision_notional)) * BPS,
        latency_ms=latency_ms,
        fill_rate=safe_ratio(filled_base, float(shortfall.decision_notional)),
        impact_bps=safe_ratio(float(shortfall.market_impact), filled_base) * BPS,
        dispersion_bps=pooled_dispersion_bps([a.children for a in analyses]),
    )


def _iso_times(stamps: Sequence[datetime]) -> list[str]:
    """Vectorised ``iso_utc`` for many times (same output, one numpy call)."""
    if not stamps:
        return []
    micros = np.fromiter((t.timestamp() for t in stamps), dtype=np.float64, count=len(stamps))
    as_dt64 = np.round(micros * 1e6).astype(np.int64).astype("datetime64[us]")
    return [text + "Z" for text in np.datetime_as_string(as_dt64, unit="ms").tolist()]


def _fill_rows(fills: Sequence[Fill],
               unimpacted_mids: Sequence[Decimal | None] = ()) -> list[dict[str, Any]]:
    times = _iso_times(
        [fill.ts if fill.ts.tzinfo else fill.ts.replace(tzinfo=UTC) for fill in fills]
    )
    own = list(unimpacted_mids) if unimpacted_mids else [None] * len(fills)
    return [
        {
            "time": time,
            "price": float(fill.price),
            "quantity": float(fill.quantity),
            "fee": float(fill.fee),
            "liquidity": str(fill.liquidity),
            "venue": fill.venue,
            "fill_id": fill.fill_id,
            "client_order_id": fill.client_order_id,
            "mid_price": None if fill.mid_price is None else float(fill.mid_price),
            "half_spread": None if fill.half_spread is None else float(fill.half_spread),
            "unimpacted_mid": _num(unimpacted),
        }
        for fill, time, unimpacted in zip(fills, times, own, strict=True)
    ]


def _parent_dict(analysis: ParentAnalysis) -> dict[str, Any]:
    parent, prices, totals = analysis.parent, analysis.prices, analysis.totals
    sign = parent.side.sign
    avg = totals.avg_price
    latency = _latency(parent.child_latencies.ack_ms, parent.child_latencies.first_fill_ms)
    return {
        "parent_id": parent.parent_id,
        "symbol": parent.symbol,
        "side": str(parent.side),
        "algo": parent.algo,
        "algo_reason": parent.algo_reason,
        "state": parent.state,
        "end_reason": parent.end_reason,
        "impact_source": parent.impact_source,
        "quantity": float(parent.quantity),
        "filled_quantity": float(totals.quantity),
        "filled_notional_usd": float(totals.notional),
        "decision_price": _num(prices.decision),
        "arrival_price": _num(prices.arrival),
        "end_price": _num(prices.end),
        "avg_fill_price": _num(avg),
        "interval_vwap": _num(parent.market_vwap),
        "interval_twap": _num(parent.market_twap),
        "market_volume": _num(parent.market_volume),
        "decision_time": iso_utc(parent.decision_time),
        "start": iso_utc(parent.start),
        "end": iso_utc(parent.end),
        "child_orders": parent.child_count,
        "fill_count": totals.count,
        "fill_rate": fill_rate(totals.quantity, parent.quantity),
        "participation_rate": participation_rate(totals.quantity, parent.market_volume),
        "passive_ratio": passive_ratio(totals),
        "latency": latency,
        "slippage_bps": {
            "arrival": slippage_bps(sign, avg, prices.arrival),
            "vwap": slippage_bps(sign, avg, parent.market_vwap),
            "twap": slippage_bps(sign, avg, parent.market_twap),
        },
        "tca": _tca_bps(analysis.shortfall),
        "costs_usd": {
            **{name: float(value) for name, value in analysis.shortfall.usd().items()},
            "own_mid_impact": float(analysis.shortfall.own_mid_impact),
            "opportunity_since_arrival": float(analysis.shortfall.opportunity_since_arrival),
            "decision_notional": float(analysis.shortfall.decision_notional),
        },
        "quality": _quality([analysis], analysis.shortfall, latency).as_dict(),
        "children": [
            {"client_order_id": cid, "filled_notional_usd": notional, "arrival_slippage_bps": slip}
            for cid, notional, slip in zip(
                analysis.children.client_order_ids,
                analysis.children.notional.tolist(),
                analysis.children.slippage_bps.tolist(),
                strict=True,
            )
        ],
        "fills": _fill_rows(parent.fills, parent.unimpacted_mids),
    }


def _weighted_slippage(parents: list[dict[str, Any]], benchmark: str) -> float:
    """Filled-notional-weighted mean of the parents' slippage against ``benchmark`` (0 if none)."""
    pairs = [
        (p["slippage_bps"][benchmark], p["filled_notional_usd"])
        for p in parents
        if p["slippage_bps"][benchmark] is not None and p["filled_notional_usd"] > 0
    ]
    if not pairs:
        return 0.0
    values = np.array(pairs, dtype=np.float64)
    return float((values[:, 0] * values[:, 1]).sum() / values[:, 1].sum())


def _summary(
    session: SessionExecution,
    analyses: Sequence[ParentAnalysis],
    parents: list[dict[str, Any]],
    shortfall: Shortfall,
    latency: dict[str, float | None],
) -> dict[str, Any]:
    filled_notional = float(sum((a.totals.notional for a in analyses), ZERO))
    maker_notional = float(sum((a.totals.maker_notional for a in analyses), ZERO))
    filled_base = float(sum((a.filled_decision_notional for a in analyses), ZERO))
    ours = market = 0.0
    for analysis in analyses:
        window = analysis.market_notional
        if window is not None:
            ours += float(analysis.totals.notional)
            market += window
    return {
        "parent_orders": len(analyses),
        "child_orders": sum(a.parent.child_count for a in analyses),
        "fills": sum(a.totals.count for a in analyses),
        "fill_rate": safe_ratio(filled_base, float(shortfall.decision_notional)),
        "filled_notional_usd": filled_notional,
        "ordered_notional_usd": float(shortfall.decision_notional),
        "avg_slippage_bps": _weighted_slippage(parents, "arrival"),
        "vwap_slippage_bps": _weighted_slippage(parents, "vwap"),
        "twap_slippage_bps": _weighted_slippage(parents, "twap"),
        "participation_rate": safe_ratio(ours, market),
        "passive_ratio": safe_ratio(maker_notional, filled_notional),
        "risk_violations": len(session.risk_violations),
        "circuit_breakers_tripped": len(session.breakers_tripped),
        "latency": latency,
        "impact_source": _impact_source(analyses),
    }


def _impact_source(analyses: Sequence[ParentAnalysis]) -> str:
    """The parents' common impact source; "mixed" when they differ, "none" without parents."""
    sources = {a.parent.impact_source for a in analyses}
    if not sources:
        return "none"
    return sources.pop() if len(sources) == 1 else "mixed"


def build_execution_report(session: SessionExecution, generated_at: datetime) -> dict[str, Any]:
    """The ExecutionReport (report_version 1) of ``session`` as a JSON-ready dict."""
    analyses = [analyse_parent(parent) for parent in session.parents]
    shortfall = total_shortfall([a.shortfall for a in analyses])
    parents = [_parent_dict(a) for a in analyses]
    ack = [v for a in analyses for v in a.parent.child_latencies.ack_ms]
    first_fill = [v for a in analyses for v in a.parent.child_latencies.first_fill_ms]
    latency = _latency(ack, first_fill)
    return {
        "report_version": REPORT_VERSION,
        "session_id": session.session_id,
        "generated_at": iso_utc(generated_at),
        "venue": session.venue,
        "started_at": iso_utc(session.started_at),
        "ended_at": iso_utc(session.ended_at),
        "execution_time_ms": session.duration_ms,
        "target_portfolio": {
            "total_usd": float(sum((float(target) for _, target, _ in session.targets), 0.0)),
            "positions": [
                {
                    "symbol": symbol,
                    "target_usd": float(target),
                    "current_usd": float(current),
                    "delta_usd": float(target) - float(current),
                }
                for symbol, target, current in session.targets
            ],
        },
        "summary": _summary(session, analyses, parents, shortfall, latency),
        "costs": _costs(shortfall),
        "tca": _tca_bps(shortfall),
        "quality": _quality(analyses, shortfall, latency).as_dict(),
        "risk": {
            "violations": list(session.risk_violations),
            "circuit_breakers_tripped": list(session.breakers_tripped),
            "trading_state": str(session.trading_state),
        },
        "venues": venue_section(session.parents),
        "parents": parents,
    }


def fills_csv(report: dict[str, Any]) -> str:
    """The fills of a report as CSV (header FILL_CSV_COLUMNS), one row per fill, parent order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FILL_CSV_COLUMNS)
    session_id = report.get("session_id", "")
    for parent in report.get("parents", []):
        head = {
            "session_id": session_id,
            "parent_id": parent.get("parent_id", ""),
            "symbol": parent.get("symbol", ""),
            "side": parent.get("side", ""),
        }
        for fill in parent.get("fills", []):
            row = {**head, **fill}
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in FILL_CSV_COLUMNS])
    return buffer.getvalue()

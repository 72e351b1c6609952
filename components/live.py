"""Live panels built from an EngineSnapshot: KPIs, positions vs targets, working parents with
progress, latest fills. Pure functions of the snapshot (unit-tested without a server)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from dash import html

from components.format import fmt_bps, fmt_pct, fmt_price, fmt_qty, fmt_time, fmt_usd, to_float
from components.tables import Column, kpi, progress_bar, table

if TYPE_CHECKING:
    from oms.persistence.history import EquitySample
    from oms.snapshot import EngineSnapshot, ParentView

__all__ = ["equity_figure", "equity_point", "fills_panel", "history_points", "kpi_strip",
           "parent_rows", "parents_panel", "positions_panel",
           "positions_rows"]

_ACTIVE = ("PENDING", "WORKING")


def _tone(value: Decimal | float | None) -> str:
    number = to_float(value)
    if number is None or abs(number) < 1e-9:
        return ""
    return "pos" if number > 0 else "neg"


def kpi_strip(snap: EngineSnapshot) -> list[html.Div]:
    """Equity, cash, P&L, daily P&L, working parents, open children."""
    working = snap.counts.get("working_parents", 0)
    return [
        kpi("Equity USDT", fmt_usd(snap.equity)),
        kpi("Cash USDT", fmt_usd(snap.cash)),
        kpi("P&L", fmt_usd(snap.pnl, signed=True), tone=_tone(snap.pnl)),
        kpi("Daily P&L", fmt_usd(snap.daily_pnl, signed=True), tone=_tone(snap.daily_pnl)),
        kpi("Working parents", f"{working:,}", tone="warn" if working else ""),
        kpi("Open children", f"{snap.counts.get('open_children', 0):,}"),
    ]


def positions_rows(snap: EngineSnapshot) -> list[dict[str, Any]]:
    """One row per symbol: quantity, mid, value, target, difference, P&L."""
    rows = []
    for p in snap.positions:
        diff = None if p.target_usd is None else p.target_usd - p.market_value
        rows.append({
            "symbol": p.symbol, "quantity": fmt_qty(p.quantity), "mid": fmt_price(p.mid),
            "avg_cost": fmt_price(p.avg_cost) if p.quantity else "—",
            "value": fmt_usd(p.market_value), "target": fmt_usd(p.target_usd),
            "diff": fmt_usd(diff, signed=True),
            "upnl": html.Span(fmt_usd(p.unrealised_pnl, signed=True),
                              className=_tone(p.unrealised_pnl)),
            "rpnl": html.Span(fmt_usd(p.realised_pnl, signed=True),
                              className=_tone(p.realised_pnl)),
        })
    return rows


def positions_panel(snap: EngineSnapshot) -> html.Table:
    """Positions vs targets."""
    columns = [Column("Symbol", "symbol"), Column("Qty", "quantity", True),
               Column("Mid", "mid", True), Column("Avg cost", "avg_cost", True),
               Column("Value USD", "value", True), Column("Target USD", "target", True),
               Column("To target", "diff", True), Column("uPnL", "upnl", True),
               Column("rPnL", "rpnl", True)]
    return table(columns, positions_rows(snap), empty="no positions")


def parent_rows(parents: tuple[ParentView, ...] | list[ParentView], limit: int = 12
                ) -> list[dict[str, Any]]:
    """Working parents first, then the latest finished ones, with progress bars."""
    rows = []
    for p in list(parents)[:limit]:
        active = p.state in _ACTIVE
        rows.append({
            "_class": "row-active" if active else "row-done",
            "symbol": p.symbol,
            "side": html.Span(p.side, className=f"side-{p.side.lower()}"),
            "algo": html.Span(p.algo.upper(), title=p.algo_reason),
            "filled": f"{fmt_qty(p.filled_quantity)} / {fmt_qty(p.quantity)}",
            "progress": progress_bar(p.progress, fmt_pct(p.progress), kind="qty"),
            "time": progress_bar(p.time_progress, fmt_pct(p.time_progress), kind="time"),
            "avg": fmt_price(p.avg_price),
            "slippage": html.Span(fmt_bps(p.slippage_bps),
                                  className=_tone(-round(p.slippage_bps or 0.0, 1))),
            "state": html.Span(
                p.state + (f" ↻{p.resumes}" if p.resumes else ""),
                className=f"st st-{p.state.lower()}",
                title=p.end_reason or (f"resumed after {p.resumes} restart(s), last at "
                                       f"{fmt_time(p.resumed_at)}" if p.resumes else "")),
            "started": fmt_time(p.started_at or p.created_at),
        })
    return rows


def parents_panel(snap: EngineSnapshot) -> html.Table:
    """Working parent orders with fill and time progress and live slippage."""
    columns = [Column("Symbol", "symbol"), Column("Side", "side"), Column("Algo", "algo"),
               Column("Filled / qty", "filled", True), Column("Filled", "progress"),
               Column("Time", "time"), Column("Avg px", "avg", True),
               Column("Slippage", "slippage", True), Column("State", "state"),
               Column("Start", "started")]
    return table(columns, parent_rows(snap.parents), empty="no parent orders yet")


def fills_panel(snap: EngineSnapshot, limit: int = 15) -> html.Table:
    """The latest fills, newest first."""
    rows = [{"ts": fmt_time(f.ts), "symbol": f.symbol,
             "side": html.Span(f.side.value, className=f"side-{f.side.value.lower()}"),
             "qty": fmt_qty(f.quantity), "price": fmt_price(f.price),
             "notional": fmt_usd(f.price * f.quantity), "fee": fmt_usd(f.fee),
             "liq": str(f.liquidity.value if hasattr(f.liquidity, "value") else f.liquidity)}
            for f in list(snap.recent_fills)[:limit]]
    columns = [Column("Time UTC", "ts"), Column("Symbol", "symbol"), Column("Side", "side"),
               Column("Qty", "qty", True), Column("Price", "price", True),
               Column("Notional", "notional", True), Column("Fee", "fee", True),
               Column("Liq", "liq")]
    return table(columns, rows, empty="no fills yet")


def equity_point(snap: EngineSnapshot) -> dict[str, Any]:
    """One P&L sample (the browser appends it to its history, see assets/oms.js)."""
    return {"tick": snap.tick, "t": snap.ts.isoformat(), "pnl": to_float(snap.pnl)}


def history_points(samples: list[EquitySample]) -> list[dict[str, Any]]:
    """Stored samples as the chart's points (the shape ``equity_point`` gives live ones)."""
    return [{"t": s.ts.isoformat(), "pnl": to_float(s.pnl)} for s in samples]


def equity_figure(history: list[dict[str, Any]] | None) -> go.Figure:
    """P&L over the stored history, then extended live (market time on x)."""
    points = history or []
    pnl = [p.get("pnl") or 0.0 for p in points]
    fig = go.Figure(go.Scatter(x=[p["t"] for p in points], y=pnl, mode="lines",
                               line={"color": "#4da3ff", "width": 1.6}, fill="tozeroy",
                               fillcolor="rgba(77, 163, 255, 0.08)", name="P&L",
                               hovertemplate="%{x}<br>P&L %{y:,.2f} USDT<extra></extra>"))
    fig.update_layout(height=150, margin={"l": 50, "r": 10, "t": 6, "b": 24},
                      template="plotly_dark", paper_bgcolor="#151b23",
                      plot_bgcolor="#121820", showlegend=False, font={"size": 10},
                      uirevision="equity")
    fig.update_xaxes(gridcolor="#232c38", showgrid=False, type="date", tickformat="%H:%M:%S")
    fig.update_yaxes(gridcolor="#232c38", zerolinecolor="#3a4554", tickformat=",.2f")
    return fig

"""TCA figures from an ExecutionReport dict (the JSON contract of the TCA issue): execution
chart, cost waterfall, child slippage histogram, quality scores, and the summary figures.
Pure functions (unit-tested); WebGL scatter for fills."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from dash import html

from components.format import fmt_bps, fmt_pct, fmt_usd, to_float
from components.tables import kpi

__all__ = ["WATERFALL_PARTS", "empty_figure", "execution_chart", "quality_chart",
           "slippage_histogram", "summary_kpis", "waterfall_chart"]

WATERFALL_PARTS = (("delay_cost_bps", "Delay"), ("spread_cost_bps", "Spread"),
                   ("market_impact_bps", "Impact"), ("timing_cost_bps", "Timing"),
                   ("fees_bps", "Fees"), ("opportunity_cost_bps", "Opportunity"))
_PALETTE = ("#4da3ff", "#f5a623", "#2fcc71", "#c86bfa", "#ff6b6b", "#3dd6d0")


def _layout(fig: go.Figure, title: str, *, height: int = 330, **extra: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 13}, "x": 0.01}, height=height,
        template="plotly_dark", paper_bgcolor="#151b23", plot_bgcolor="#121820",
        margin={"l": 55, "r": 15, "t": 36, "b": 38}, font={"size": 11, "color": "#d7dde5"},
        legend={"orientation": "h", "y": -0.18, "x": 0}, **extra)
    fig.update_xaxes(gridcolor="#232c38", zerolinecolor="#2a3340")
    fig.update_yaxes(gridcolor="#232c38", zerolinecolor="#2a3340")
    return fig


def empty_figure(message: str) -> go.Figure:
    """A blank chart that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 13, "color": "#8391a3"},
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "")


def _parents(report: dict[str, Any], parent_id: str | None) -> list[dict[str, Any]]:
    parents: list[dict[str, Any]] = list(report.get("parents") or [])
    if parent_id:
        return [p for p in parents if p.get("parent_id") == parent_id]
    return parents


def _hline(fig: go.Figure, times: Sequence[str], value: float | None, name: str,
           color: str, dash: str, row_sign: float = 1.0) -> None:
    if value is None or not times:
        return
    fig.add_trace(go.Scatter(x=[times[0], times[-1]], y=[value * row_sign] * 2, mode="lines",
                             name=name, line={"color": color, "dash": dash, "width": 1.5}))


def execution_chart(report: dict[str, Any], parent_id: str | None = None) -> go.Figure:
    """Market price (mid at arrival, at each fill, at the end), our fills sized by quantity,
    arrival price and interval VWAP. One parent: prices; several: bps from each arrival."""
    parents = _parents(report, parent_id)
    if not parents:
        return empty_figure("no parent orders in this report")
    single = len(parents) == 1
    fig = go.Figure()
    for index, parent in enumerate(parents):
        color = _PALETTE[index % len(_PALETTE)]
        arrival = to_float(parent.get("arrival_price"))
        fills = parent.get("fills") or []
        if not single and not arrival:
            continue
        base = arrival if not single and arrival else None

        def scale(value: float, base: float | None = base) -> float:
            return value if base is None else (value / base - 1) * 10_000

        path = parent.get("market_path") or []
        if path:  # the market's 1-minute closes over the window (reports since v1.1)
            times = [p["time"] for p in path]
            mids = [to_float(p.get("price")) for p in path]
        else:
            times = [parent.get("start")] + [f["time"] for f in fills] + [parent.get("end")]
            mids = ([arrival] + [to_float(f.get("mid_price")) for f in fills]
                    + [to_float(parent.get("end_price"))])
        points = [(t, scale(m)) for t, m in zip(times, mids, strict=True)
                  if t is not None and m is not None]
        label = f"{parent.get('symbol')} {parent.get('side')}"
        if points:
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                     mode="lines", name=f"{label} market mid",
                                     line={"color": color, "width": 1.4, "shape": "hv"}))
        if fills:
            quantities = [float(f["quantity"]) for f in fills]
            largest = max(quantities) or 1.0
            # WebGL only where SVG would be slow: a browser without WebGL still draws the rest
            marker_trace = go.Scattergl if len(fills) > 2000 else go.Scatter
            fig.add_trace(marker_trace(
                x=[f["time"] for f in fills], y=[scale(float(f["price"])) for f in fills],
                mode="markers", name=f"{label} fills",
                marker={"size": [6 + 16 * (q / largest) ** 0.5 for q in quantities],
                        "color": color, "line": {"width": 1, "color": "#0d1117"},
                        "opacity": 0.85},
                customdata=[[q, f.get("liquidity", "")] for q, f in zip(quantities, fills,
                                                                         strict=True)],
                hovertemplate="%{x}<br>price %{y}<br>qty %{customdata[0]}"
                              "<br>%{customdata[1]}<extra></extra>"))
        span = [t for t in (parent.get("start"), parent.get("end")) if t]
        if single:
            _hline(fig, span, arrival, "arrival", "#f5a623", "dash")
            _hline(fig, span, to_float(parent.get("interval_vwap")), "interval VWAP",
                   "#3dd6d0", "dot")
            _hline(fig, span, to_float(parent.get("avg_fill_price")), "our avg price",
                   "#ff6b6b", "dashdot")
    if single:
        title = f"Execution: {parents[0].get('symbol')} {parents[0].get('side')} price"
        return _layout(fig, title, yaxis_title="price USDT")
    fig.add_hline(y=0, line={"color": "#f5a623", "dash": "dash", "width": 1})
    return _layout(fig, "Execution: price vs arrival (bps) per parent",
                   yaxis_title="bps vs arrival")


_IMPACT_SOURCES = {"simulator": "the simulator's unperturbed mid",
                   "model": "a model estimate (impact law over our fills)",
                   "mixed": "the simulator and a model estimate"}


def waterfall_chart(tca: dict[str, Any] | None, impact_source: str | None = None) -> go.Figure:
    """Implementation shortfall decomposed (bps, positive = cost) ending in the total; the title
    says how much of the impact is the mid our own flow moved, and from what source."""
    if not tca:
        return empty_figure("no cost decomposition yet")
    labels = [label for _, label in WATERFALL_PARTS] + ["Total"]
    values = [to_float(tca.get(key)) or 0.0 for key, _ in WATERFALL_PARTS]
    total = to_float(tca.get("total_cost_bps"))
    values.append(total if total is not None else sum(values))
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=["relative"] * len(WATERFALL_PARTS) + ["total"],
        text=[f"{v:+.1f}" for v in values], textposition="outside",
        increasing={"marker": {"color": "#ff6b6b"}}, decreasing={"marker": {"color": "#2fcc71"}},
        totals={"marker": {"color": "#4da3ff"}}, connector={"line": {"color": "#3a4554"}}))
    title = "Implementation shortfall (bps, + = cost)"
    own = to_float(tca.get("own_mid_impact_bps"))
    if impact_source in _IMPACT_SOURCES and own is not None:
        title += (f"<br><sup>impact includes {own:+.1f} bps of mid moved by our own flow, "
                  f"from {_IMPACT_SOURCES[impact_source]}</sup>")
    return _layout(fig, title, yaxis_title="bps")


def _child_slippage(parent: dict[str, Any]) -> list[float]:
    children = parent.get("children")
    if children:
        return [float(c["arrival_slippage_bps"]) for c in children
                if to_float(c.get("arrival_slippage_bps")) is not None]
    arrival = to_float(parent.get("arrival_price"))
    if not arrival:
        return []
    sign = 1.0 if parent.get("side") == "BUY" else -1.0
    return [sign * (float(f["price"]) / arrival - 1) * 10_000 for f in parent.get("fills") or []]


def slippage_histogram(report: dict[str, Any], parent_id: str | None = None) -> go.Figure:
    """Histogram of child-order slippage vs arrival (bps, positive = cost)."""
    values = [v for p in _parents(report, parent_id) for v in _child_slippage(p)]
    if not values:
        return empty_figure("no filled child orders")
    fig = go.Figure(go.Histogram(x=values, nbinsx=30, marker={"color": "#4da3ff"},
                                 name="children"))
    fig.add_vline(x=0, line={"color": "#f5a623", "dash": "dash", "width": 1})
    return _layout(fig, f"Child slippage vs arrival ({len(values)} children)",
                   xaxis_title="bps", yaxis_title="children", bargap=0.05, showlegend=False)


def quality_chart(quality: dict[str, Any] | None) -> go.Figure:
    """The quality scores (0-100) as horizontal bars."""
    if not quality:
        return empty_figure("no quality scores yet")
    items = [(k.replace("_", " "), to_float(v) or 0.0) for k, v in quality.items()
             if to_float(v) is not None]
    colors = ["#2fcc71" if v >= 75 else "#f5a623" if v >= 50 else "#ff6b6b" for _, v in items]
    fig = go.Figure(go.Bar(y=[k for k, _ in items], x=[v for _, v in items], orientation="h",
                           marker={"color": colors}, text=[f"{v:.0f}" for _, v in items],
                           textposition="auto"))
    return _layout(fig, "Execution quality (0-100)", xaxis={"range": [0, 100]},
                   showlegend=False)


def summary_kpis(report: dict[str, Any], parent_id: str | None = None) -> list[html.Div]:
    """Headline figures of a session (or of one parent)."""
    parents = _parents(report, parent_id)
    if parent_id and parents:
        p = parents[0]
        tca, slip = p.get("tca") or {}, p.get("slippage_bps") or {}
        return [kpi("Shortfall", fmt_bps(tca.get("total_cost_bps"))),
                kpi("Cost USD", fmt_usd((p.get("costs_usd") or {}).get("total"))),
                kpi("vs arrival", fmt_bps(slip.get("arrival"))),
                kpi("vs VWAP", fmt_bps(slip.get("vwap"))),
                kpi("Fill rate", fmt_pct(p.get("fill_rate"))),
                kpi("Participation", fmt_pct(p.get("participation_rate"), decimals=2)),
                kpi("Passive", fmt_pct(p.get("passive_ratio"))),
                kpi("Quality", f"{to_float((p.get('quality') or {}).get('overall')) or 0:.0f}")]
    summary, costs = report.get("summary") or {}, report.get("costs") or {}
    quality = report.get("quality") or {}
    return [kpi("Shortfall", fmt_bps(costs.get("total_cost_bps"))),
            kpi("Cost USD", fmt_usd(costs.get("total_cost_usd"))),
            kpi("vs arrival", fmt_bps(summary.get("avg_slippage_bps"))),
            kpi("vs VWAP", fmt_bps(summary.get("vwap_slippage_bps"))),
            kpi("Fill rate", fmt_pct(summary.get("fill_rate"))),
            kpi("Filled USD", fmt_usd(summary.get("filled_notional_usd"))),
            kpi("Parents / children",
                f"{summary.get('parent_orders', 0)} / {summary.get('child_orders', 0)}"),
            kpi("Quality", f"{to_float(quality.get('overall')) or 0:.0f}")]

"""TCA figures from an ExecutionReport dict (the JSON contract of the TCA issue): execution
chart, cost waterfall, child slippage histogram, quality scores, and the summary figures.
Pure functions (unit-tested); WebGL scatter for fills."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import html

from components.format import fmt_bps, fmt_pct, fmt_usd, to_float
from components.tables import kpi
from components.tca_glossary import (
    IMPACT_SOURCES,
    KPI_HINTS,
    WATERFALL_HINTS,
    impact_hint,
    measure_legend,
)

__all__ = ["DOT_PLOT_BELOW", "TCA_LEGEND", "WATERFALL_PARTS", "WEBGL_FROM", "chart_layout",
           "empty_figure",
           "execution_chart", "histogram_bins", "marker_sizes", "mid_path", "quality_chart",
           "slippage_histogram", "summary_kpis", "waterfall_chart"]

WATERFALL_PARTS = (("delay_cost_bps", "Delay"), ("spread_cost_bps", "Spread"),
                   ("market_impact_bps", "Impact"), ("timing_cost_bps", "Timing"),
                   ("fees_bps", "Fees"), ("opportunity_cost_bps", "Opportunity"))
WEBGL_FROM = 300  # points in one trace: more are drawn with WebGL (scattergl)
DOT_PLOT_BELOW = 5  # children: fewer are shown one dot each instead of a histogram
TCA_LEGEND = "tca-legend"
_BAR = timedelta(minutes=1)  # market_path holds 1-minute bars stamped by their open
_MIN_WINDOW = timedelta(seconds=30)
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


chart_layout = _layout  # the TCA charts' common look, for the figures built elsewhere


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


def _when(value: Any) -> datetime | None:
    """An ISO-8601 time of the report (``...Z`` or ``+00:00``) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _axis_time(stamp: datetime) -> str:
    """One time format for every trace (plotly ignores offsets; mixing formats is fragile)."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _window(parent: dict[str, Any], fills: Sequence[tuple[datetime, dict[str, Any]]]
            ) -> tuple[datetime, datetime] | None:
    """The parent's working window (start..end), from its fills when the fields are missing;
    a window of one instant is widened so its lines stay visible."""
    times = [t for t in (_when(parent.get("start")), _when(parent.get("end"))) if t]
    times += [t for t, _ in fills]
    if not times:
        return None
    first, last = min(times), max(times)
    if last - first < _MIN_WINDOW:
        pad = (_MIN_WINDOW - (last - first)) / 2
        first, last = first - pad, last + pad
    return first, last


def _sorted_fills(parent: dict[str, Any]) -> list[tuple[datetime, dict[str, Any]]]:
    """Fills with a valid time and price, in time order (a report lists them in the order they
    were recorded, which latency can put tens of ms off: a line through them would zigzag)."""
    rows = [(_when(f.get("time")), f) for f in parent.get("fills") or []
            if to_float(f.get("price")) is not None]
    return sorted(((t, f) for t, f in rows if t is not None), key=lambda row: row[0])


def mid_path(parent: dict[str, Any]) -> list[tuple[datetime, float]]:
    """The market mid over the parent's window, in time order: the arrival mid at the start,
    each 1-minute bar's close at the bar's CLOSE time (``market_path`` stamps bars by their
    open; plotting a close there draws it a minute early), the end mid at the end. With fewer
    than two bars: the arrival mid, the mid at each fill, the end mid."""
    start, end = _when(parent.get("start")), _when(parent.get("end"))
    arrival, end_price = to_float(parent.get("arrival_price")), to_float(parent.get("end_price"))
    inner: list[tuple[datetime, float]] = []
    for bar in parent.get("market_path") or []:
        opened, close = _when(bar.get("time")), to_float(bar.get("price"))
        if opened is None or close is None:
            continue
        closed = opened + _BAR
        if end is not None and closed > end:
            closed = end  # the bar still open when the parent ended: its last price, at the end
        if start is None or closed > start:
            inner.append((closed, close))
    if len(inner) < 2:
        inner = [(t, m) for t, f in _sorted_fills(parent)
                 if (m := to_float(f.get("mid_price"))) is not None]
    points = ([(start, arrival)] if start and arrival is not None else []) + inner
    if end and end_price is not None:
        points.append((end, end_price))
    points.sort(key=lambda point: point[0])
    # one price per instant: two at the same time would draw a vertical spike
    deduped: dict[datetime, float] = {}
    for stamp, price in points:
        deduped[stamp] = price
    return list(deduped.items())


def marker_sizes(quantities: Sequence[float]) -> list[float]:
    """Marker diameters by sqrt(quantity): large for a handful of fills, small for thousands
    (so they do not bury the mid line)."""
    if not quantities:
        return []
    count = len(quantities)
    largest = max(quantities) or 1.0
    biggest = 18.0 if count <= 20 else 12.0 if count <= 200 else 7.0
    smallest = biggest / 3
    return [smallest + (biggest - smallest) * (max(q, 0.0) / largest) ** 0.5
            for q in quantities]


def _scatter(count: int) -> Any:
    """WebGL from a few hundred points: SVG slows down, and a browser without WebGL still
    draws the small charts."""
    return go.Scattergl if count > WEBGL_FROM else go.Scatter


def _window_line(fig: go.Figure, window: tuple[datetime, datetime], value: float | None,
                 name: str, color: str, dash: str, hint: str) -> None:
    if value is None:
        return
    fig.add_trace(go.Scatter(
        x=[_axis_time(window[0]), _axis_time(window[1])], y=[value, value], mode="lines",
        name=name, line={"color": color, "dash": dash, "width": 1.5},
        hovertemplate=f"{name} %{{y}}<br>{hint}<extra></extra>"))


def _add_parent(fig: go.Figure, parent: dict[str, Any], color: str, *, single: bool) -> None:
    """The mid line and the fills of one parent (prices, or bps from its arrival)."""
    arrival = to_float(parent.get("arrival_price"))
    base = None if single else arrival
    side = 1.0 if parent.get("side") == "BUY" else -1.0

    def scale(value: float) -> float:
        return value if base is None else (value / base - 1) * 10_000

    label = f"{parent.get('symbol')} {parent.get('side')}"
    path = mid_path(parent)
    if path:
        fig.add_trace(_scatter(len(path))(
            x=[_axis_time(t) for t, _ in path], y=[scale(m) for _, m in path],
            mode="lines+markers" if len(path) <= 3 else "lines", name=f"{label} market mid",
            line={"color": color, "width": 1.4}, marker={"size": 4},
            hovertemplate="%{x}<br>mid %{y}<extra>market mid</extra>"))
    fills = _sorted_fills(parent)
    if not fills:
        return
    quantities = [to_float(f.get("quantity")) or 0.0 for _, f in fills]
    prices = [float(f["price"]) for _, f in fills]
    slippage = [side * (p / arrival - 1) * 10_000 if arrival else None for p in prices]
    fig.add_trace(_scatter(len(fills))(
        x=[_axis_time(t) for t, _ in fills], y=[scale(p) for p in prices], mode="markers",
        name=f"{label} fills",
        # thousands of markers at full opacity would hide the mid line and each other
        marker={"size": marker_sizes(quantities), "color": color,
                "opacity": 0.85 if len(fills) <= WEBGL_FROM else 0.4,
                "line": {"width": 1, "color": "#0d1117"}},
        customdata=[[q, f.get("liquidity", ""), s, f.get("mid_price")] for q, (_, f), s
                    in zip(quantities, fills, slippage, strict=True)],
        hovertemplate="%{x}<br>price %{y} (mid %{customdata[3]})<br>qty %{customdata[0]} · "
                      "%{customdata[1]}<br>vs arrival %{customdata[2]:+.1f} bps (+ = cost)"
                      "<extra>fill</extra>"))


def execution_chart(report: dict[str, Any], parent_id: str | None = None) -> go.Figure:
    """Market mid over the window, our fills sized by quantity, arrival, interval VWAP and our
    average price across the window. One parent: prices; several: bps from each arrival."""
    parents = _parents(report, parent_id)
    if not parents:
        return empty_figure("no parent orders in this report")
    single = len(parents) == 1
    fig = go.Figure()
    for index, parent in enumerate(parents):
        if not single and not to_float(parent.get("arrival_price")):
            continue  # no arrival mid: nothing to measure its bps from
        _add_parent(fig, parent, _PALETTE[index % len(_PALETTE)], single=single)
    if single:
        parent = parents[0]
        window = _window(parent, _sorted_fills(parent))
        if window:
            _window_line(fig, window, to_float(parent.get("arrival_price")), "arrival",
                         "#f5a623", "dash", "mid when the parent started working")
            _window_line(fig, window, to_float(parent.get("interval_vwap")), "interval VWAP",
                         "#3dd6d0", "dot", "the market's VWAP over the window")
            _window_line(fig, window, to_float(parent.get("avg_fill_price")), "our avg price",
                         "#ff6b6b", "dashdot", "our average fill price, fees excluded")
        title = f"Execution: {parent.get('symbol')} {parent.get('side')} price"
        return _layout(fig, title, yaxis_title="price USDT")
    fig.add_hline(y=0, line={"color": "#f5a623", "dash": "dash", "width": 1})
    return _layout(fig, "Execution: price vs arrival (bps) per parent",
                   yaxis_title="bps vs arrival")


def waterfall_chart(tca: dict[str, Any] | None, impact_source: str | None = None) -> go.Figure:
    """Implementation shortfall decomposed (bps, positive = cost) ending in the total; each bar's
    hover text defines it, and the title says how much of the impact is the mid our own flow
    moved, and from what source."""
    if not tca:
        return empty_figure("no cost decomposition yet")
    labels = [label for _, label in WATERFALL_PARTS] + ["Total"]
    values = [to_float(tca.get(key)) or 0.0 for key, _ in WATERFALL_PARTS]
    total = to_float(tca.get("total_cost_bps"))
    values.append(total if total is not None else sum(values))
    hints = [impact_hint(tca, impact_source) if key == "market_impact_bps"
             else WATERFALL_HINTS[key] for key, _ in WATERFALL_PARTS] + [WATERFALL_HINTS["total"]]
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=["relative"] * len(WATERFALL_PARTS) + ["total"],
        text=[_signed(v) for v in values], textposition="outside",
        customdata=[_wrap(h) for h in hints],
        hovertemplate="<b>%{x}</b> %{y:+.1f} bps<br>%{customdata}<extra></extra>",
        increasing={"marker": {"color": "#ff6b6b"}}, decreasing={"marker": {"color": "#2fcc71"}},
        totals={"marker": {"color": "#4da3ff"}}, connector={"line": {"color": "#3a4554"}}))
    title = "Implementation shortfall (bps, + = cost, fees included)"
    own = to_float(tca.get("own_mid_impact_bps"))
    if impact_source in IMPACT_SOURCES and own is not None:
        title += (f"<br><sup>impact includes {own:+.1f} bps of mid moved by our own flow, "
                  f"from {IMPACT_SOURCES[impact_source]}</sup>")
    return _layout(fig, title, yaxis_title="bps", showlegend=False)


def _signed(value: float) -> str:
    """``+1.2`` / ``-1.2``, and ``0.0`` for what rounds to zero (never ``-0.0``)."""
    text = f"{value:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def _wrap(text: str, width: int = 60) -> str:
    """Hover text broken into lines (plotly does not wrap)."""
    return "<br>".join(textwrap.wrap(text, width))


def _child_rows(parent: dict[str, Any]) -> list[tuple[str, float, float | None]]:
    """(child id, slippage vs arrival in bps, filled notional) of each child with a figure;
    from the fills when the report has no child list."""
    children = parent.get("children")
    if children:
        return [(str(c.get("client_order_id") or f"child {n + 1}"), value,
                 to_float(c.get("filled_notional_usd")))
                for n, c in enumerate(children)
                if (value := to_float(c.get("arrival_slippage_bps"))) is not None]
    arrival = to_float(parent.get("arrival_price"))
    if not arrival:
        return []
    sign = 1.0 if parent.get("side") == "BUY" else -1.0
    return [(str(f.get("client_order_id") or f"fill {n + 1}"),
             sign * (float(f["price"]) / arrival - 1) * 10_000,
             (to_float(f.get("price")) or 0.0) * (to_float(f.get("quantity")) or 0.0))
            for n, f in enumerate(parent.get("fills") or [])]


def histogram_bins(values: Sequence[float]) -> dict[str, float]:
    """Freedman-Diaconis bins (8 to 60 of them) over the values, the extreme 0.5 % on each side
    left out of the range when there are hundreds (one outlier would squash the rest)."""
    data = np.asarray(values, dtype=np.float64)
    low, high = (np.percentile(data, [0.5, 99.5]) if data.size >= 200
                 else (data.min(), data.max()))
    span = float(high - low)
    if span <= 0:
        return {"start": float(low) - 0.5, "end": float(high) + 0.5, "size": 1.0}
    q1, q3 = np.percentile(data, [25, 75])
    width = 2 * float(q3 - q1) / data.size ** (1 / 3) or span / 10
    count = min(max(math.ceil(span / width), 8), 60)
    size = span / count
    return {"start": float(low), "end": float(high) + size * 1e-6, "size": size}


def slippage_histogram(report: dict[str, Any], parent_id: str | None = None) -> go.Figure:
    """Child-order slippage vs arrival (bps, positive = cost, fees excluded): one dot per child
    under DOT_PLOT_BELOW children (a histogram of three is one bar), else a histogram."""
    parents = _parents(report, parent_id)
    rows = [(f"{p.get('symbol')} {name}" if len(parents) > 1 else name, value, notional)
            for p in parents for name, value, notional in _child_rows(p)]
    if not rows:
        return empty_figure("no filled child orders")
    values = [value for _, value, _ in rows]
    count = f"{len(values)} {'child' if len(values) == 1 else 'children'}"
    title = f"Child slippage vs arrival, fees excluded ({count}, + = cost)"
    if len(rows) < DOT_PLOT_BELOW:
        fig = go.Figure(go.Scatter(
            x=values, y=[name for name, _, _ in rows], mode="markers+text",
            text=[f"{_signed(v)} bps" for v in values], textposition="top center",
            marker={"size": 12, "color": "#4da3ff", "line": {"width": 1, "color": "#0d1117"}},
            customdata=[n if n is not None else 0.0 for _, _, n in rows],
            hovertemplate="%{y}<br>%{x:+.2f} bps vs arrival<br>filled %{customdata:,.2f} USDT"
                          "<extra></extra>"))
        fig.add_vline(x=0, line={"color": "#f5a623", "dash": "dash", "width": 1})
        reach = max(max(abs(v) for v in values) * 1.3, 2.0)  # zero stays visibly zero
        return _layout(fig, title, xaxis={"title": "bps", "range": [-reach, reach]},
                       yaxis={"automargin": True, "type": "category"}, showlegend=False)
    bins = histogram_bins(values)
    shown = [min(max(v, bins["start"]), bins["end"] - bins["size"] * 1e-3) for v in values]
    clipped = sum(1 for v, s in zip(values, shown, strict=True) if v != s)
    fig = go.Figure(go.Histogram(x=shown, xbins=bins, marker={"color": "#4da3ff"},
                                 name="children",
                                 hovertemplate="%{x} bps<br>%{y} children<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#f5a623", "dash": "dash", "width": 1})
    fig.add_vline(x=float(np.median(values)), line={"color": "#ff6b6b", "dash": "dot", "width": 1},
                  annotation_text="median", annotation_font_size=10)
    if clipped:
        title += f"<br><sup>{clipped} beyond the range counted in the end bins</sup>"
    return _layout(fig, title, xaxis_title="bps", yaxis_title="children", bargap=0.05,
                   showlegend=False)


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
    """Headline figures of a session (or of one parent), each defined on hover, and a legend
    line that reconciles the shortfall (fees included) with the slippage (fees excluded)."""
    parents = _parents(report, parent_id)
    if parent_id and parents:
        p = parents[0]
        tca, slip = p.get("tca") or {}, p.get("slippage_bps") or {}
        tiles = [("Shortfall incl. fees", fmt_bps(tca.get("total_cost_bps")), "shortfall"),
                 ("Cost USD", fmt_usd((p.get("costs_usd") or {}).get("total")), "cost_usd"),
                 ("vs arrival", fmt_bps(slip.get("arrival")), "vs_arrival"),
                 ("vs VWAP", fmt_bps(slip.get("vwap")), "vs_vwap"),
                 ("Fill rate", fmt_pct(p.get("fill_rate")), "fill_rate"),
                 ("Participation", fmt_pct(p.get("participation_rate"), decimals=2),
                  "participation"),
                 ("Passive", fmt_pct(p.get("passive_ratio")), "passive"),
                 ("Quality", f"{to_float((p.get('quality') or {}).get('overall')) or 0:.0f}",
                  "quality")]
        legend = measure_legend(tca.get("total_cost_bps"), tca.get("fees_bps"))
    else:
        summary, costs = report.get("summary") or {}, report.get("costs") or {}
        quality = report.get("quality") or {}
        tiles = [("Shortfall incl. fees", fmt_bps(costs.get("total_cost_bps")), "shortfall"),
                 ("Cost USD", fmt_usd(costs.get("total_cost_usd")), "cost_usd"),
                 ("vs arrival", fmt_bps(summary.get("avg_slippage_bps")), "vs_arrival"),
                 ("vs VWAP", fmt_bps(summary.get("vwap_slippage_bps")), "vs_vwap"),
                 ("Fill rate", fmt_pct(summary.get("fill_rate")), "fill_rate"),
                 ("Filled USD", fmt_usd(summary.get("filled_notional_usd")), "filled_usd"),
                 ("Parents / children",
                  f"{summary.get('parent_orders', 0)} / {summary.get('child_orders', 0)}",
                  "orders"),
                 ("Quality", f"{to_float(quality.get('overall')) or 0:.0f}", "quality")]
        legend = measure_legend(costs.get("total_cost_bps"), costs.get("fees_bps"))
    return [*(kpi(label, value, hint=KPI_HINTS[key]) for label, value, key in tiles),
            html.Div(legend, className="muted tca-legend", id=TCA_LEGEND)]

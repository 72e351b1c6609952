"""The pre-trade estimate on screen: per parent the exact quantity, the planned children, the
expected cost with its range and split, and the limits it would hit (the preview and the
submit confirmation show the same view)."""

from __future__ import annotations

from typing import Any

from dash import html

from components.format import fmt_datetime, fmt_usd
from components.tables import Column, table
from oms.pretrade_estimate import (
    ParentEstimate,
    RebalanceEstimate,
    mid_text,
    qty_text,
    totals,
)

__all__ = ["estimate_panel", "estimate_summary"]

_COLUMNS = [Column("Symbol", "symbol"), Column("Side", "side"), Column("Qty sent", "qty", True),
            Column("Mid", "mid", True), Column("Notional USD", "notional", True),
            Column("Current USD", "current", True), Column("Target USD", "target", True),
            Column("Algo", "algo"), Column("Children", "children", True),
            Column("Typical child", "child", True), Column("First – last", "times"),
            Column("Cost bps (±1 SD)", "bps", True), Column("Cost USD", "usd", True),
            Column("Spread / impact / fees USD", "split", True), Column("Limits", "limits")]


def _limits(p: ParentEstimate) -> Any:
    if not p.limits:
        return html.Span("none hit", className="muted")
    return html.Ul([html.Li([html.B(str(h.code)), f" ({h.effect}): {h.message}",
                             html.Span(" " + " ".join(f"{k}={v}" for k, v in h.numbers.items()),
                                       className="muted") if h.numbers else None],
                            className=f"limit-{h.effect}") for h in p.limits],
                   className="limit-list")


def _row(p: ParentEstimate) -> dict[str, Any]:
    planned, cost, sched, rules = p.planned, p.cost, p.schedule, p.filters
    # two lines, so the confirmation fits its dialog without sideways scrolling
    times = html.Span([fmt_datetime(sched.first_at), html.Br(),
                       "(at once)" if sched.first_at == sched.last_at
                       else f"– {fmt_datetime(sched.last_at)}"])
    spread = (f"{cost.total_bps - cost.sd_bps:.2f} to {cost.total_bps + cost.sd_bps:.2f}"
              if cost.sd_bps >= 0.005 else "no timing risk")
    return {
        "symbol": planned.symbol,
        "side": html.Span(planned.side.value, className=f"side-{planned.side.value.lower()}"),
        "qty": qty_text(planned.quantity, rules), "mid": mid_text(planned.mid, rules),
        "notional": fmt_usd(planned.notional_usd), "current": fmt_usd(planned.current_usd),
        "target": fmt_usd(planned.target_usd),
        "algo": html.Span([html.B(p.algo.value.upper()), html.Br(),
                           html.Span(p.algo_reason, className="muted")]),
        "children": f"{sched.count}{'' if sched.exact else ' (est.)'}",
        "child": qty_text(sched.typical_child, rules), "times": times,
        "bps": html.Span([f"{cost.total_bps:.2f}", html.Br(),
                          html.Span(spread, className="muted")]),
        "usd": fmt_usd(cost.usd(cost.total_bps)),
        "split": f"{fmt_usd(cost.usd(cost.spread_bps))} / {fmt_usd(cost.usd(cost.impact_bps))}"
                 f" / {fmt_usd(cost.usd(cost.fees_bps))}",
        "limits": _limits(p),
        "_class": "row-warn" if any(h.effect in ("refused", "denied") for h in p.limits)
        else None,
    }


def estimate_summary(estimate: RebalanceEstimate) -> str:
    """One line: parents, notional, expected cost."""
    cost, notional = totals(estimate.parents)
    count = len(estimate.parents)
    bps = cost / notional * 10_000 if notional else 0.0
    return (f"{count} parent order{'s' if count != 1 else ''}, {fmt_usd(notional)} USD notional, "
            f"expected cost {fmt_usd(cost)} USD ({bps:.2f} bps)")


def estimate_panel(estimate: RebalanceEstimate) -> html.Div:
    """The parents with their estimate, why each has its children, what is skipped, replaced
    or refused."""
    plan = estimate.plan
    breaches = [html.Li([html.B(e.field), f": {e.message}"]) for e in plan.breaches]
    skipped = [html.Li(f"{symbol}: {reason}") for symbol, reason in plan.skipped]
    superseded = (f"Replaces {len(plan.superseded)} working parent"
                  f"{'s' if len(plan.superseded) != 1 else ''}: {', '.join(plan.superseded)}"
                  if plan.superseded else None)
    basis = [html.Li([html.B(p.planned.symbol), f" {p.schedule.count} child"
                      f"{'ren' if p.schedule.count != 1 else ''}: {p.schedule.basis}"],
                     className="" if p.schedule.count > 1 else "single-child")
             for p in estimate.parents]
    return html.Div([
        html.Div([html.Div("Would be refused: a limit would be breached", className="fb-title"),
                  html.Ul(breaches)], className="feedback feedback-error")
        if breaches else None,
        html.Div(estimate_summary(estimate), className="estimate-summary")
        if estimate.parents else None,
        html.Div(table(_COLUMNS, [_row(p) for p in estimate.parents],
                       empty="nothing to trade: positions already match the targets"),
                 className="table-scroll"),
        html.Ul(basis, className="schedule-basis") if basis else None,
        html.Div("Cost: half the spread and the taker fee on all of it (passive fills save "
                 "both), impact from the venue's law over the children's horizon; ±1 SD is the "
                 "price move over that horizon. Quantities are re-planned at the submit tick "
                 "from the mid then.", className="muted estimate-note")
        if estimate.parents else None,
        html.Div(superseded, className="superseded") if superseded else None,
        html.Ul(skipped, className="skipped") if skipped else None,
    ], className="preview-plan")

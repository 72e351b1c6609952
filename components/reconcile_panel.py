"""The /risk page's reconciliation panel: the last run and every open mismatch with what the OMS
believes, what the venue holds, and its actions (pure functions of a ReconcileView)."""

from __future__ import annotations

from typing import Any

from dash import html

from components import ids
from components.format import fmt_time
from components.tables import Column, table
from oms.reconciliation import MismatchView, ReconcileView, ResolveAction

__all__ = ["ACTION_LABELS", "action_id", "mismatch_signature", "mismatch_table",
           "reconcile_status"]

ACTION_LABELS = {ResolveAction.ADOPT: "Adopt", ResolveAction.CANCEL: "Cancel at venue",
                 ResolveAction.IGNORE: "Ignore"}
_COLUMNS = [Column("Id", "id"), Column("Kind", "kind"), Column("Subject", "subject"),
            Column("OMS believes", "oms"), Column("Venue holds", "venue"),
            Column("Difference", "difference", True), Column("Since", "since"),
            Column("Seen now", "present"), Column("Actions", "actions")]


def action_id(mismatch_id: str, action: ResolveAction) -> dict[str, str]:
    """The pattern-matching id of one action button."""
    return {"type": ids.RECONCILE_ACTION, "mismatch": mismatch_id, "action": action.value}


def reconcile_status(view: ReconcileView) -> html.Div:
    """One line: interval, last and next run, what awaits confirmation, the last error."""
    if not view.enabled:
        return html.Div("Running reconciliation is off (OMS_RECONCILE_INTERVAL_S=0).",
                        className="muted")
    parts = [f"every {view.interval_s:g} s", f"last run {fmt_time(view.last_run_at)}",
             f"next {fmt_time(view.next_run_at)}", f"runs {view.runs}",
             f"balances compared {fmt_time(view.balances_checked_at)}",
             f"awaiting confirmation {view.pending}"]
    if view.baseline:
        parts.append("baseline " + ", ".join(f"{a} {v:+}" for a, v in view.baseline.items()))
    children: list[Any] = [html.Span(" · ".join(parts))]
    if view.last_error:
        children.append(html.Div(f"last run skipped: {view.last_error}",
                                 className="feedback feedback-error"))
    tone = "halted" if view.mismatches else "completed"
    label = f"{len(view.mismatches)} open mismatch(es)" if view.mismatches else "in agreement"
    return html.Div([html.Span(label, className=f"st st-{tone}"), " ", *children],
                    className="reconcile-status")


def mismatch_signature(view: ReconcileView) -> list[list[str]]:
    """What the table shows (it is re-rendered only when this changes, so buttons stay put)."""
    return [[m.mismatch_id, str(m.present), m.oms_view, m.venue_view]
            for m in view.mismatches]


def _row(m: MismatchView) -> dict[str, Any]:
    buttons = [html.Button(ACTION_LABELS[action], id=action_id(m.mismatch_id, action),
                           n_clicks=0, className="btn btn-small"
                           + (" btn-primary" if action is ResolveAction.ADOPT else ""))
               for action in m.actions]
    return {"_class": "row-active" if m.present else None, "id": m.mismatch_id,
            "kind": m.kind.value, "subject": m.subject + (f" ({m.symbol})" if m.symbol else ""),
            "oms": m.oms_view, "venue": m.venue_view,
            "difference": f"{m.difference:+}" if m.difference is not None else "—",
            "since": fmt_time(m.first_seen), "present": "yes" if m.present else "no longer",
            "actions": html.Div(buttons, className="buttons")}


def mismatch_table(view: ReconcileView) -> html.Table:
    """Every open mismatch with both views and its action buttons."""
    return table(_COLUMNS, [_row(m) for m in view.mismatches], empty="no open mismatch",
                 table_id=f"{ids.RECONCILE_MISMATCHES}-table")

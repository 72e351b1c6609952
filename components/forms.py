"""Building blocks of the rebalance and signal forms: targets text <-> table rows, the algorithm
the policy will choose and why, and the feedback messages (the preview's estimate table lives in
components/estimate_view.py)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dash import html

from oms.errors import FieldError

if TYPE_CHECKING:
    from oms.engine.sessions import SubmitResult

__all__ = ["ALGO_OPTIONS", "TARGETS_PLACEHOLDER", "algo_choice", "error_list", "rows_to_text",
           "sizing_view", "submitted_message", "text_to_rows"]

# Shown in the empty targets box: worded as an example so it is not read as content
TARGETS_PLACEHOLDER = ("e.g. BTCUSDT 3000   (one 'SYMBOL USD' per line)\n"
                       "e.g. ETHUSDT 2000")

ALGO_OPTIONS = [
    {"label": "AUTO (policy chooses)", "value": "auto"},
    {"label": "TWAP", "value": "twap"},
    {"label": "VWAP", "value": "vwap"},
    {"label": "IS (implementation shortfall)", "value": "is"},
    {"label": "POV (participation)", "value": "pov"},
    {"label": "ICEBERG", "value": "iceberg"},
    {"label": "MARKET", "value": "market"},
]


def text_to_rows(text: str | None) -> list[dict[str, Any]]:
    """Best-effort split of ``SYMBOL TARGET_USD`` lines into table rows (validation is the
    service's job; malformed lines are kept so the trader sees them)."""
    rows = []
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").replace(";", " ").replace("\t", " ").split()
        rows.append({"symbol": parts[0] if parts else "",
                     "target_usd": " ".join(parts[1:]) if len(parts) > 1 else ""})
    return rows


def rows_to_text(rows: Sequence[dict[str, Any]] | None) -> str:
    """Table rows back to ``SYMBOL TARGET_USD`` lines (blank rows dropped)."""
    lines = []
    for row in rows or []:
        symbol = str(row.get("symbol") or "").strip()
        target = str(row.get("target_usd") if row.get("target_usd") is not None else "").strip()
        if symbol or target:
            lines.append(f"{symbol} {target}".strip())
    return "\n".join(lines)


def algo_choice(notional_usd: Decimal, algo: str, urgency: float) -> tuple[str, str]:
    """The algorithm a parent will run and why (the selection policy when ``auto``)."""
    if algo != "auto":
        return algo.upper(), "chosen by the trader"
    from oms.algos.selection import select_algo

    chosen, reason = select_algo(notional_usd, urgency, None)
    return chosen.value.upper(), reason


def _line_numbers(text: str) -> dict[str, int]:
    """First token of each non-blank line -> its 1-based line number."""
    numbers: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split("#", 1)[0].replace(",", " ").replace(";", " ").split()
        if parts:
            numbers.setdefault(parts[0], number)
    return numbers


def _where(field: str, lines: dict[str, int]) -> str:
    """``targets.ETHUSDT`` -> ``line 4 (ETHUSDT)`` when the symbol is on a line of the text."""
    if field.startswith("targets."):
        symbol = field.split(".", 1)[1]
        if symbol in lines:
            return f"line {lines[symbol]} ({symbol})"
    return field


def error_list(errors: Sequence[FieldError], title: str, text: str | None = None) -> html.Div:
    """Per-line (per-field) errors, nothing submitted; ``text`` maps symbols to line numbers."""
    lines = _line_numbers(text or "")
    return html.Div([
        html.Div(f"{title}: {len(errors)} problem{'s' if len(errors) != 1 else ''}, "
                 "nothing submitted", className="fb-title"),
        html.Ul([html.Li([html.B(_where(e.field, lines)), f": {e.message}"]) for e in errors]),
    ], className="feedback feedback-error")


def submitted_message(result: SubmitResult, what: str = "rebalance") -> html.Div:
    """How many parent orders were submitted, in which session, and what was skipped."""
    count = len(result.parent_ids)
    algos = sorted({algo.upper() for algo, _ in result.algos.values()})
    parts: list[Any] = [html.Div(
        f"Submitted {count} parent order{'s' if count != 1 else ''} "
        f"({what}, session {result.session_id}{', ' + '/'.join(algos) if algos else ''})",
        className="fb-title")]
    if result.skipped:
        parts.append(html.Ul([html.Li(f"skipped {s}: {r}") for s, r in result.skipped]))
    if result.sizing:
        parts.append(sizing_view(result.sizing))
    return html.Div(parts, className="feedback feedback-ok")


_SIZING_ROWS = (("Equity USD", "equity_usd"), ("Win rate", "win_rate"),
                ("Payoff ratio", "payoff_ratio"), ("Full Kelly", "full_kelly"),
                ("Kelly fraction", "kelly_fraction"), ("Kelly stake", "kelly_stake"),
                ("Volatility (annual)", "measured_volatility"),
                ("Volatility source", "volatility_source"),
                ("Target volatility", "target_volatility"), ("Vol scale", "volatility_scale"),
                ("Uncapped USD", "uncapped_usd"), ("Cap USD", "cap_usd"),
                ("Cap applied", "cap_applied"), ("Size USD", "size_usd"))


def sizing_view(sizing: dict[str, Any]) -> html.Table:
    """The auto size's computation (``oms.sizing.AutoSize.as_dict``), one row per step."""
    return html.Table(html.Tbody([html.Tr([html.Th(label), html.Td(str(sizing.get(key, "")))])
                                  for label, key in _SIZING_ROWS]), className="sizing-table")

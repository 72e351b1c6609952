"""Parent and child blotters: AG Grid in the infinite row model, paged server-side (the grid asks
for rows startRow..endRow; we answer with one SQL page and the total), so 100k child orders
stay fast. Column definitions, the request -> query translation and the row formatting.

Layout: symbol, side and state are pinned left; the default columns fit a 1366 px wide screen
(Session and End reason included, End reason takes what is left); the rarely needed ones are
off by default and come back through the column chooser. An empty grid says so instead of
AG Grid's "Page 0 of 0"."""

from __future__ import annotations

import inspect
from datetime import datetime
from decimal import Decimal
from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from components.format import fmt_datetime, to_float

__all__ = ["CHILD_COLUMNS", "CHILD_OPTIONAL", "FILTERABLE", "PAGE_SIZE", "PARENT_COLUMNS",
           "PARENT_OPTIONAL", "SORTABLE", "WORKING_ONLY", "blotter", "blotter_controls",
           "child_grid_rows", "columns_shown", "empty_state", "grid_query", "parent_grid_rows",
           "rows_response"]

PAGE_SIZE = 100
# Columns the repository can filter on (exact match), per blotter.
FILTERABLE = {"parents": ("symbol", "state", "session_id"),
              "children": ("symbol", "state", "parent_id")}
# Sorting is server-side too; it lights up when the repository pages accept
# ``order_by=<column>, descending=<bool>`` (otherwise the blotters stay newest-first).
_DB_COLUMNS = {"created": "created_at", "symbol": "symbol", "side": "side", "state": "state",
               "algo": "algo", "quantity": "quantity", "filled_quantity": "filled_quantity",
               "filled_notional": "filled_notional", "fees": "fees",
               "parent_id": "parent_id", "session_id": "session_id",
               "client_order_id": "client_order_id", "limit_price": "limit_price",
               "arrival_price": "arrival_price", "order_type": "order_type"}


def _sort_supported() -> bool:
    from oms.persistence.repository import Repository

    return all("order_by" in inspect.signature(method).parameters
               for method in (Repository.parents_page, Repository.children_page))


SORTABLE = _sort_supported()
_EQUALS = {"filter": "agTextColumnFilter",
           "filterParams": {"filterOptions": ["equals"], "maxNumConditions": 1,
                            "buttons": ["apply", "reset"], "closeOnApply": True}}


_STATE_CLASSES = {
    "st-working": "['WORKING', 'PENDING', 'NEW', 'PENDING_NEW', 'PARTIALLY_FILLED']"
                     ".includes(params.value)",
    "st-completed": "['COMPLETED', 'FILLED'].includes(params.value)",
    "st-canceled": "['CANCELED', 'EXPIRED', 'PENDING_CANCEL'].includes(params.value)",
    "st-halted": "['HALTED', 'FAILED', 'REJECTED'].includes(params.value)",
}


def _num(field: str, header: str, fmt: str = "num", width: int = 90,
         **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": header, "type": "rightAligned", "width": width,
            "valueFormatter": {"function": f"{fmt}(params.value)"},
            "sortable": SORTABLE and field in _DB_COLUMNS, **extra}


def _text(field: str, header: str, width: int = 110, *, filterable: bool = False,
          **extra: Any) -> dict[str, Any]:
    column: dict[str, Any] = {"field": field, "headerName": header, "width": width,
                              "sortable": SORTABLE and field in _DB_COLUMNS, **extra}
    if filterable:
        column.update(_EQUALS)
    return column


# ids share a process token and differ at their end: the grid shows the end (assets/oms.js)
_ID: dict[str, Any] = {"valueFormatter": {"function": "fmtId(params.value)"}}
_SIDE_CLASSES = {"side-buy": "params.value == 'BUY'", "side-sell": "params.value == 'SELL'"}
_PINNED: dict[str, Any] = {"pinned": "left", "lockPinned": True}
_CREATED_WIDTH = 158  # "2024-03-04 14:05:09 UTC" in the grid's 12 px font
# the column that takes the width left over (at least its minimum), so no gap and no clipping
_FILL: dict[str, Any] = {"flex": 1, "minWidth": 150}

PARENT_COLUMNS = [
    _text("symbol", "Symbol", 86, filterable=True, **_PINNED),
    _text("side", "Side", 56, cellClassRules=_SIDE_CLASSES, **_PINNED),
    _text("state", "State", 102, filterable=True, cellClassRules=_STATE_CLASSES, **_PINNED),
    _text("created", "Created", _CREATED_WIDTH, tooltipField="created"),
    _text("parent_id", "Parent", 118, tooltipField="parent_id", **_ID),
    _text("algo", "Algo", 60, tooltipField="algo_reason"),
    _num("quantity", "Qty", "fmtQty", 84),
    _num("filled_quantity", "Filled", "fmtQty", 84),
    _num("progress", "Fill %", "fmtPct", 64),
    _num("avg_price", "Avg px", "fmtPrice", 88),
    _num("slippage_bps", "Slip bps", "fmtBps", 72),
    _num("arrival_price", "Arrival", "fmtPrice", 88),
    _num("filled_notional", "Notional", "fmtUsd", 92),
    _num("fees", "Fees", "fmtUsd", 70),
    _num("resumes", "Restarts", "num", 72),
    _num("duration_minutes", "Dur min", "num", 68),
    _text("session_id", "Session", 118, filterable=True, tooltipField="session_id", **_ID),
    _text("end_reason", "End reason", tooltipField="end_reason", **_FILL),
]

CHILD_COLUMNS = [
    _text("symbol", "Symbol", 86, filterable=True, **_PINNED),
    _text("side", "Side", 56, cellClassRules=_SIDE_CLASSES, **_PINNED),
    _text("state", "State", 128, filterable=True, cellClassRules=_STATE_CLASSES, **_PINNED),
    _text("created", "Created", _CREATED_WIDTH, tooltipField="created"),
    _text("client_order_id", "Client id", 118, tooltipField="client_order_id", **_ID),
    _text("parent_id", "Parent", 118, filterable=True, tooltipField="parent_id", **_ID),
    _text("order_type", "Type", 66),
    _text("time_in_force", "TIF", 52),
    _num("quantity", "Qty", "fmtQty", 84),
    _num("limit_price", "Limit", "fmtPrice", 88),
    _num("filled_quantity", "Filled", "fmtQty", 84),
    _num("avg_price", "Avg px", "fmtPrice", 88),
    _num("fees", "Fees", "fmtUsd", 70),
    _text("venue", "Venue", 70),
    _text("tag", "Tag", 110, tooltipField="tag"),
    _text("reason", "Reason", tooltipField="reason", **_FILL),
]

#: columns off by default (the column chooser shows them): what the detail panel already shows
#: or a desk rarely reads, so that the default set fits a 1366 px screen
PARENT_OPTIONAL = ("arrival_price", "filled_notional", "fees", "resumes", "duration_minutes")
CHILD_OPTIONAL = ("time_in_force", "fees", "venue", "tag")
WORKING_ONLY = "working"


def columns_shown(columns: list[dict[str, Any]], optional: tuple[str, ...],
                  shown: list[str] | None) -> list[dict[str, Any]]:
    """``columns`` with the optional ones not in ``shown`` hidden (the column chooser)."""
    chosen = set(shown or [])
    return [{**c, "hide": c["field"] in optional and c["field"] not in chosen} for c in columns]


def blotter_controls(chooser_id: str, working_id: str, columns: list[dict[str, Any]],
                     optional: tuple[str, ...]) -> html.Div:
    """The working-only toggle and the column chooser of one blotter."""
    headers = {c["field"]: c["headerName"] for c in columns}
    return html.Div(className="blotter-controls", children=[
        dcc.Checklist(id=working_id, options=[{"label": "working only", "value": WORKING_ONLY}],
                      value=[], inline=True, className="toggle"),
        dcc.Dropdown(id=chooser_id, multi=True, value=[], placeholder="more columns…",
                     options=[{"label": headers[f], "value": f} for f in optional],
                     className="column-chooser", clearable=True, searchable=False),
    ])


def blotter(grid_id: str, columns: list[dict[str, Any]], row_id: str, *, box_id: str,
            empty_id: str, optional: tuple[str, ...] = (), height: str = "300px") -> html.Div:
    """An AG Grid blotter paged from the server (infinite row model with pagination), in a box
    that shows ``empty_id``'s note instead of the paging panel while there are no rows."""
    grid = dag.AgGrid(
        id=grid_id, rowModelType="infinite", columnDefs=columns_shown(columns, optional, []),
        # AG Grid wants a string id (warning #25 otherwise), whatever the column holds
        getRowId=f"rowId(params, {row_id!r})",  # assets/oms.js
        defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": False},
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False,
                             "enableClickSelection": True},
            "cacheBlockSize": PAGE_SIZE, "maxBlocksInCache": 10, "infiniteInitialRowCount": 1,
            "pagination": True, "paginationPageSize": PAGE_SIZE,
            "paginationPageSizeSelector": False, "rowHeight": 26, "headerHeight": 28,
            "tooltipShowDelay": 300,
            "animateRows": False, "suppressCellFocus": True,
            "suppressNoRowsOverlay": True,  # our note says it (AG Grid's would overlap it)
            "theme": {"function": "omsTheme(themeQuartz)"},
        },
        className="blotter", style={"height": height, "width": "100%"})
    return html.Div([grid, html.Div(id=empty_id, className="blotter-empty-note")], id=box_id,
                    className="blotter-box")


def empty_state(total: int, request: dict[str, Any] | None, *, noun: str,
                working_only: bool = False) -> tuple[str, str]:
    """The blotter box's class and the note it shows: nothing yet, nothing matching, or ""."""
    if total > 0:
        return "blotter-box", ""
    filtered = any((m or {}).get("filter") for m in
                   ((request or {}).get("filterModel") or {}).values())
    working = "working " if working_only else ""
    if filtered:
        note = f"no {working}{noun} match the filters"
    else:
        note = f"no working {noun}" if working_only else f"no {noun} yet"
    return "blotter-box is-empty", note


def grid_query(request: dict[str, Any] | None, kind: str,
               extra: dict[str, str] | None = None, *,
               working_only: bool = False) -> dict[str, Any]:
    """Translate an AG Grid getRowsRequest into repository paging and equality filters
    (``working_only``: open orders only)."""
    request = request or {}
    start = max(0, int(request.get("startRow") or 0))
    end = int(request.get("endRow") or start + PAGE_SIZE)
    size = max(1, min(1000, end - start))
    filters: dict[str, Any] = {}
    for name, model in (request.get("filterModel") or {}).items():
        value = str((model or {}).get("filter") or "").strip()
        if name in FILTERABLE[kind] and value:
            filters[name] = value if name.endswith("_id") else value.upper()
    for name, value in (extra or {}).items():
        if value:
            filters.setdefault(name, value)
    sort = [s for s in request.get("sortModel") or [] if s.get("colId") in _DB_COLUMNS]
    if SORTABLE and sort:
        filters["order_by"] = _DB_COLUMNS[sort[0]["colId"]]
        filters["descending"] = sort[0].get("sort") != "asc"
    if working_only:
        filters["working_only"] = True
    return {"page": start // size, "page_size": size, **filters}


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _avg(row: dict[str, Any]) -> float | None:
    quantity = to_float(row.get("filled_quantity"))
    notional = to_float(row.get("filled_notional"))
    if not quantity or notional is None:
        return None
    return notional / quantity


def _created(row: dict[str, Any]) -> str:
    created = row.get("created_at")
    return fmt_datetime(created) if isinstance(created, datetime) else ""


def parent_grid_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Repository parent rows -> grid rows (floats, computed fill %, avg price, slippage)."""
    out = []
    for row in rows:
        data = {k: _cell(v) for k, v in row.items() if k != "algo_params"}
        quantity = to_float(row.get("quantity")) or 0.0
        filled = to_float(row.get("filled_quantity")) or 0.0
        avg = _avg(row)
        arrival = to_float(row.get("arrival_price"))
        sign = 1.0 if row.get("side") == "BUY" else -1.0
        data.update(created=_created(row), avg_price=avg,
                    progress=filled / quantity if quantity else 0.0,
                    slippage_bps=(sign * (avg - arrival) / arrival * 10_000
                                  if avg is not None and arrival else None))
        out.append(data)
    return out


def child_grid_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Repository child rows -> grid rows."""
    out = []
    for row in rows:
        data = {k: _cell(v) for k, v in row.items()}
        data.update(created=_created(row), avg_price=_avg(row))
        out.append(data)
    return out


def rows_response(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """The getRowsResponse AG Grid expects."""
    return {"rowData": rows, "rowCount": total}

"""Parent and child blotters: AG Grid in the infinite row model, paged server-side (the grid asks
for rows startRow..endRow; we answer with one SQL page and the total), so 100k child orders
stay fast. Column definitions, the request -> query translation and the row formatting."""

from __future__ import annotations

import inspect
from datetime import datetime
from decimal import Decimal
from typing import Any

import dash_ag_grid as dag

from components.format import to_float

__all__ = ["CHILD_COLUMNS", "FILTERABLE", "PAGE_SIZE", "PARENT_COLUMNS", "SORTABLE", "blotter",
           "child_grid_rows", "grid_query", "parent_grid_rows", "rows_response"]

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


def _num(field: str, header: str, fmt: str = "num", width: int = 110,
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


PARENT_COLUMNS = [
    _text("created", "Created", 130),
    _text("parent_id", "Parent", 150, tooltipField="parent_id"),
    _text("symbol", "Symbol", 100, filterable=True),
    _text("side", "Side", 70, cellClassRules={"side-buy": "params.value == 'BUY'",
                                               "side-sell": "params.value == 'SELL'"}),
    _text("algo", "Algo", 80, tooltipField="algo_reason"),
    _text("state", "State", 110, filterable=True, cellClassRules=_STATE_CLASSES),
    _num("resumes", "Restarts", "num", 85),
    _num("quantity", "Qty", "fmtQty"),
    _num("filled_quantity", "Filled", "fmtQty"),
    _num("progress", "Fill %", "fmtPct", 80),
    _num("avg_price", "Avg px", "fmtPrice"),
    _num("arrival_price", "Arrival", "fmtPrice"),
    _num("slippage_bps", "Slip bps", "fmtBps", 90),
    _num("filled_notional", "Notional", "fmtUsd"),
    _num("fees", "Fees", "fmtUsd", 90),
    _num("duration_minutes", "Dur min", "num", 80),
    _text("session_id", "Session", 150, filterable=True),
    _text("end_reason", "End reason", 220, tooltipField="end_reason"),
]

CHILD_COLUMNS = [
    _text("created", "Created", 130),
    _text("client_order_id", "Client id", 160),
    _text("parent_id", "Parent", 150, filterable=True),
    _text("symbol", "Symbol", 100, filterable=True),
    _text("side", "Side", 70, cellClassRules={"side-buy": "params.value == 'BUY'",
                                               "side-sell": "params.value == 'SELL'"}),
    _text("order_type", "Type", 80),
    _text("time_in_force", "TIF", 60),
    _num("quantity", "Qty", "fmtQty"),
    _num("limit_price", "Limit", "fmtPrice"),
    _text("state", "State", 130, filterable=True, cellClassRules=_STATE_CLASSES),
    _num("filled_quantity", "Filled", "fmtQty"),
    _num("avg_price", "Avg px", "fmtPrice"),
    _num("fees", "Fees", "fmtUsd", 90),
    _text("venue", "Venue", 80),
    _text("tag", "Tag", 130),
    _text("reason", "Reason", 200, tooltipField="reason"),
]


def blotter(grid_id: str, columns: list[dict[str, Any]], row_id: str,
            height: str = "300px") -> dag.AgGrid:
    """An AG Grid blotter paged from the server (infinite row model with pagination)."""
    return dag.AgGrid(
        id=grid_id, rowModelType="infinite", columnDefs=columns,
        getRowId=f"params.data.{row_id}",
        defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": False},
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False,
                             "enableClickSelection": True},
            "cacheBlockSize": PAGE_SIZE, "maxBlocksInCache": 10, "infiniteInitialRowCount": 1,
            "pagination": True, "paginationPageSize": PAGE_SIZE,
            "paginationPageSizeSelector": False, "rowHeight": 26, "headerHeight": 28,
            "tooltipShowDelay": 300,
            "animateRows": False, "suppressCellFocus": True,
            "theme": {"function": "omsTheme(themeQuartz)"},
        },
        className="blotter", style={"height": height, "width": "100%"})


def grid_query(request: dict[str, Any] | None, kind: str,
               extra: dict[str, str] | None = None) -> dict[str, Any]:
    """Translate an AG Grid getRowsRequest into repository paging and equality filters."""
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
    return created.strftime("%m-%d %H:%M:%S") if isinstance(created, datetime) else ""


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

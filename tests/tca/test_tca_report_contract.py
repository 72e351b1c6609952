"""The ExecutionReport JSON contract (report_version 1), the fills CSV and the daily summary."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tca_builders import T0, D, make_fill, session_of, worked_parent

from oms.model.enums import Liquidity, Side
from oms.tca import FILL_CSV_COLUMNS, build_execution_report, daily_summary, fills_csv

TCA_KEYS = {
    "implementation_shortfall_bps": float, "delay_cost_bps": float, "spread_cost_bps": float,
    "market_impact_bps": float, "timing_cost_bps": float, "fees_bps": float,
    "opportunity_cost_bps": float, "total_cost_bps": float,
}  # fmt: skip
TIME = "iso-time"
NUMBER = (int, float)
# The contract from issue 6: every key, with the JSON type it must have.
SCHEMA: dict[str, Any] = {
    "report_version": int, "session_id": str, "generated_at": TIME, "venue": str,
    "execution_time_ms": NUMBER,
    "target_portfolio": {
        "total_usd": NUMBER,
        "positions": [{"symbol": str, "target_usd": NUMBER, "current_usd": NUMBER}],
    },
    "summary": {
        "parent_orders": int, "child_orders": int, "fills": int, "fill_rate": NUMBER,
        "filled_notional_usd": NUMBER, "avg_slippage_bps": NUMBER, "vwap_slippage_bps": NUMBER,
        "twap_slippage_bps": NUMBER, "participation_rate": NUMBER, "passive_ratio": NUMBER,
        "risk_violations": int,
    },
    "costs": {
        "total_cost_usd": NUMBER, "total_cost_bps": NUMBER, "fees_usd": NUMBER,
        "fees_bps": NUMBER, "spread_cost_usd": NUMBER, "spread_cost_bps": NUMBER,
        "market_impact_usd": NUMBER, "market_impact_bps": NUMBER,
    },
    "tca": TCA_KEYS,
    "quality": {"overall": NUMBER, "cost": NUMBER, "speed": NUMBER, "fill_rate": NUMBER,
                "market_impact": NUMBER, "consistency": NUMBER},
    "risk": {"violations": [str], "circuit_breakers_tripped": [str], "trading_state": str},
    "parents": [{
        "parent_id": str, "symbol": str, "side": str, "algo": str, "algo_reason": str,
        "quantity": NUMBER, "filled_quantity": NUMBER, "decision_price": NUMBER,
        "arrival_price": NUMBER, "avg_fill_price": NUMBER, "interval_vwap": NUMBER,
        "interval_twap": NUMBER, "start": TIME, "end": TIME,
        "slippage_bps": {"arrival": NUMBER, "vwap": NUMBER, "twap": NUMBER},
        "tca": TCA_KEYS,
        "fills": [{"time": TIME, "price": NUMBER, "quantity": NUMBER, "fee": NUMBER,
                   "liquidity": ("maker", "taker"), "venue": str}],
    }],
}  # fmt: skip


def _walk(schema: Any, value: Any, path: str) -> list[str]:
    """Every mismatch between ``value`` and ``schema`` (dict keys, list items, leaf types)."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        problems = [f"{path}.{key}: missing" for key in schema if key not in value]
        for key, sub in schema.items():
            if key in value:
                problems += _walk(sub, value[key], f"{path}.{key}")
        return problems
    if isinstance(schema, list):
        if not isinstance(value, list) or not value:
            return [f"{path}: expected a non-empty list"]
        return [p for i, item in enumerate(value) for p in _walk(schema[0], item, f"{path}[{i}]")]
    if schema == TIME:
        ok = isinstance(value, str) and datetime.fromisoformat(value).utcoffset() == timedelta(0)
        return [] if ok else [f"{path}: not an ISO-8601 UTC time: {value!r}"]
    if isinstance(schema, tuple) and all(isinstance(s, str) for s in schema):
        return [] if value in schema else [f"{path}: {value!r} not in {schema}"]
    if isinstance(value, bool) or not isinstance(value, schema):
        return [f"{path}: {type(value).__name__} is not {schema}"]
    return []


def _two_parent_session():  # type: ignore[no-untyped-def]
    eth_fill = make_fill(1, price="2000.50", quantity="0.5", fee="0.5", liquidity=Liquidity.MAKER,
                         mid="2000.75", half_spread="0.25", side=Side.SELL, parent_id="p-2",
                         symbol="ETHUSDT")  # fmt: skip
    eth = replace(
        worked_parent(Side.SELL, [eth_fill]),
        parent_id="p-2",
        symbol="ETHUSDT",
        quantity=D("0.5"),
        filled_quantity=D("0.5"),
        decision_price=D("2001.00"),
        arrival_price=D("2001.00"),
        end_price=D("2000.00"),
        market_vwap=D("2000.00"),
        market_twap=D("2000.00"),
        market_volume=D("50"),
    )
    session = session_of(worked_parent(Side.BUY), eth)
    return replace(session, breakers_tripped=["slippage_breaker"], trading_state="REDUCING")


def test_report_has_every_contract_key_with_its_type() -> None:
    # Arrange
    session = _two_parent_session()
    # Act
    report = json.loads(json.dumps(build_execution_report(session, T0)))
    # Assert
    assert _walk(SCHEMA, report, "report") == []
    assert report["report_version"] == 1
    assert report["risk"]["circuit_breakers_tripped"] == ["slippage_breaker"]
    assert report["risk"]["trading_state"] == "REDUCING"


def test_schema_walk_catches_a_missing_key() -> None:
    # Arrange: the walker itself must be able to fail
    report = build_execution_report(_two_parent_session(), T0)
    del report["parents"][1]["slippage_bps"]["twap"]
    del report["costs"]["fees_usd"]
    # Act
    problems = _walk(SCHEMA, report, "report")
    # Assert
    assert problems == [
        "report.costs.fees_usd: missing",
        "report.parents[1].slippage_bps.twap: missing",
    ]


def test_session_rolls_up_parents_by_notional() -> None:
    # Arrange: buy 1 BTC-like @ decision 100 (0.37 USD cost) and sell 0.5 ETH @ decision 2001
    session = _two_parent_session()
    # ETH: sold 0.5 @ 2000.50, mid 2000.75, maker (h 0.25), fee 0.5, decision = arrival 2001
    #   delay 0; timing -(0.5 * (2000.75 - 2001)) = 0.125; spread -0.125; exec vs mid
    #   -(0.5 * (2000.50 - 2000.75)) = 0.125 -> impact 0.25; fees 0.5; total 0.75 USD
    eth_total = 0.125 - 0.125 + 0.25 + 0.5
    # Act
    report = build_execution_report(session, T0)
    # Assert
    assert report["parents"][1]["costs_usd"]["total"] == pytest.approx(eth_total)
    notional = 100.0 + 0.5 * 2001.0
    assert report["costs"]["total_cost_usd"] == pytest.approx(0.37 + eth_total)
    assert report["costs"]["total_cost_bps"] == pytest.approx((0.37 + eth_total) / notional * 1e4)
    assert report["summary"]["fill_rate"] == pytest.approx((80.0 + 1000.5) / notional)
    assert report["summary"]["passive_ratio"] == pytest.approx(
        (30.045 + 1000.25) / (80.21 + 1000.25)
    )
    eth_arrival_slip = -(2000.50 - 2001.0) / 2001.0 * 1e4
    buy_arrival_slip = 0.1625 / 100.10 * 1e4
    expected = (buy_arrival_slip * 80.21 + eth_arrival_slip * 1000.25) / (80.21 + 1000.25)
    assert report["summary"]["avg_slippage_bps"] == pytest.approx(expected)


def test_fills_csv_has_one_row_per_fill() -> None:
    # Arrange
    report = build_execution_report(_two_parent_session(), T0)
    # Act
    rows = list(csv.DictReader(io.StringIO(fills_csv(report))))
    # Assert
    assert tuple(rows[0]) == FILL_CSV_COLUMNS
    assert [r["parent_id"] for r in rows] == ["p-1", "p-1", "p-1", "p-2"]
    assert rows[1]["liquidity"] == "maker"
    assert float(rows[3]["price"]) == 2000.50
    assert rows[3]["side"] == "SELL"
    assert rows[0]["time"] == "2024-01-15T10:00:10.000Z"


def test_daily_summary_groups_parents_by_utc_day() -> None:
    # Arrange: the same session on two days, the second day twice
    day1 = build_execution_report(_two_parent_session(), T0)
    later = replace(worked_parent(Side.BUY), parent_id="p-9", start=T0 + timedelta(days=1))
    day2 = build_execution_report(session_of(later, session_id="s-2"), T0 + timedelta(days=1))
    # Act
    rows = daily_summary([day2, day1])
    # Assert
    assert [r["day"] for r in rows] == ["2024-01-15", "2024-01-16"]
    first, second = rows
    assert first["orders"] == 2 and second["orders"] == 1
    assert first["sessions"] == 1
    assert first["notional_usd"] == pytest.approx(80.21 + 1000.25)
    eth_total = 0.75
    assert first["cost_bps"] == pytest.approx((0.37 + eth_total) / (100 + 1000.5) * 1e4)
    assert second["cost_bps"] == pytest.approx(37.0)
    # worst first: the BTC parent costs 37 bps, the ETH parent 0.75 / 1000.5 = 7.5 bps
    assert [p["parent_id"] for p in first["worst_parents"]] == ["p-1", "p-2"]


def test_fill_times_are_utc_milliseconds_like_iso_utc() -> None:
    # Arrange: awkward stamps: sub-millisecond, another time zone, a leap day
    from datetime import timezone

    from oms.tca.report import _iso_times, iso_utc

    stamps = [
        datetime(2024, 1, 15, 10, 0, 0, 999_999, tzinfo=UTC),
        datetime(2024, 1, 15, 12, 30, 5, 1_500, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 2, 29, 23, 59, 59, 123_456, tzinfo=UTC),
    ]
    # Act
    vectorised = _iso_times(stamps)
    # Assert
    assert vectorised == [iso_utc(t) for t in stamps]
    assert vectorised == [
        "2024-01-15T10:00:00.999Z",
        "2024-01-15T10:30:05.001Z",
        "2024-02-29T23:59:59.123Z",
    ]


def test_empty_session_still_gives_a_complete_report() -> None:
    # Arrange: a rebalance that produced no orders (already at target)
    session = replace(session_of(), risk_violations=[])
    # Act
    report = json.loads(json.dumps(build_execution_report(session, T0)))
    # Assert: every top-level section and key is there, with zeros
    schema = {key: value for key, value in SCHEMA.items() if key != "parents"}
    schema["target_portfolio"] = {"total_usd": NUMBER}
    schema["risk"] = {"trading_state": str}
    assert _walk(schema, report, "report") == []
    assert report["parents"] == []
    assert report["summary"]["parent_orders"] == 0
    assert report["costs"]["total_cost_usd"] == 0.0
    assert report["quality"]["fill_rate"] == 0.0

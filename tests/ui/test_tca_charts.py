"""TCA charts at both ends of a session's size: one child (one fill) and 2,000 fills."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ui_helpers import text_of

from components.tca_charts import (
    DOT_PLOT_BELOW,
    WEBGL_FROM,
    execution_chart,
    histogram_bins,
    mid_path,
    slippage_histogram,
    summary_kpis,
    waterfall_chart,
)

START = datetime(2024, 3, 4, 14, 0, 20, tzinfo=UTC)


def _iso(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parent(fills: list[dict[str, Any]], *, seconds: float, path: list[dict[str, Any]],
            children: list[dict[str, Any]], parent_id: str = "p1") -> dict[str, Any]:
    return {"parent_id": parent_id, "symbol": "BTCUSDT", "side": "BUY", "arrival_price": 100.0,
            "interval_vwap": 100.05, "avg_fill_price": 100.1, "end_price": 100.2,
            "start": _iso(START), "end": _iso(START + timedelta(seconds=seconds)),
            "fills": fills, "market_path": path, "children": children,
            "tca": {"total_cost_bps": 9.9, "fees_bps": 10.0, "own_mid_impact_bps": 0.4},
            "slippage_bps": {"arrival": -0.1, "vwap": 0.5}, "quality": {"overall": 70.0},
            "costs_usd": {"total": 1.0}, "impact_source": "simulator"}


def one_child_report() -> dict[str, Any]:
    """A market order: one child, one fill, a window inside one minute bar."""
    fill = {"time": _iso(START + timedelta(seconds=1)), "price": 100.1, "quantity": 0.01,
            "liquidity": "taker", "mid_price": 100.0, "client_order_id": "c1"}
    path = [{"time": "2024-03-04T14:00:00+00:00", "price": 100.2}]
    children = [{"client_order_id": "c1", "filled_notional_usd": 1.0,
                 "arrival_slippage_bps": 10.0}]
    return {"parents": [_parent([fill], seconds=2, path=path, children=children)],
            "tca": {}, "costs": {"total_cost_bps": 9.9, "fees_bps": 10.0},
            "summary": {"avg_slippage_bps": -0.1}, "quality": {}}


def big_report(count: int = 2000, seed: int = 7) -> dict[str, Any]:
    """2,000 fills over an hour, recorded out of time order as latency can put them, and an
    hour of 1-minute bars stamped by their open."""
    rng = random.Random(seed)
    fills = []
    for n in range(count):
        stamp = START + timedelta(seconds=n * 1.8 + rng.uniform(-0.05, 0.05))
        price = 100.0 + rng.gauss(0, 0.05)
        fills.append({"time": _iso(stamp), "price": price, "quantity": rng.uniform(0.001, 0.01),
                      "liquidity": rng.choice(["maker", "taker"]), "mid_price": price - 0.01,
                      "client_order_id": f"c{n}"})
    rng.shuffle(fills)
    closes = [100.0]
    for _ in range(60):
        closes.append(closes[-1] + rng.gauss(0, 0.02))
    path = [{"time": (START.replace(second=0) + timedelta(minutes=m)).isoformat(),
             "price": close} for m, close in enumerate(closes)]
    children = [{"client_order_id": f"c{n}", "filled_notional_usd": 0.5,
                 "arrival_slippage_bps": rng.gauss(2.0, 3.0)} for n in range(count)]
    children[0]["arrival_slippage_bps"] = 900.0  # one wild outlier must not squash the rest
    parent = _parent(fills, seconds=3600, path=path, children=children)
    return {"parents": [{**parent, "end_price": closes[-1]}]}


def _trace(figure: Any, name: str) -> Any:
    return next(t for t in figure.data if t.name == name)


def test_one_child_still_draws_the_mid_and_the_window_lines() -> None:
    # Arrange
    report = one_child_report()

    # Act
    figure = execution_chart(report, "p1")

    # Assert: arrival mid at the start, the fill's mid, the end mid (one bar is not a path)
    mid = _trace(figure, "BTCUSDT BUY market mid")
    assert list(mid.y) == [100.0, 100.0, 100.2] and len(mid.x) == 3
    for name in ("arrival", "interval VWAP", "our avg price"):
        line = _trace(figure, name)
        assert list(line.x) == ["2024-03-04 14:00:06.000", "2024-03-04 14:00:36.000"]  # 2 s -> 30 s
    fills = _trace(figure, "BTCUSDT BUY fills")
    assert fills.type == "scatter" and list(fills.marker.size) == [pytest.approx(18.0)]


def test_one_child_slippage_is_a_dot_not_a_one_bar_histogram() -> None:
    figure = slippage_histogram(one_child_report(), "p1")

    assert [t.type for t in figure.data] == ["scatter"]
    assert list(figure.data[0].x) == [10.0] and list(figure.data[0].y) == ["c1"]
    assert "fees excluded" in figure.layout.title.text
    assert DOT_PLOT_BELOW == 5


def test_thousands_of_fills_are_webgl_sorted_and_never_zigzag() -> None:
    # Arrange
    report = big_report()

    # Act
    figure = execution_chart(report, "p1")

    # Assert
    fills = _trace(figure, "BTCUSDT BUY fills")
    assert fills.type == "scattergl" and len(fills.x) == 2000 > WEBGL_FROM
    assert list(fills.x) == sorted(fills.x)  # recorded out of order, drawn in time order
    assert max(fills.marker.size) <= 7.0
    mid = _trace(figure, "BTCUSDT BUY market mid")
    times = list(mid.x)
    assert times == sorted(times) and len(set(times)) == len(times)  # no vertical segment
    assert times[0] == "2024-03-04 14:00:20.000" and times[-1] == "2024-03-04 15:00:20.000"
    assert mid.line.shape != "hv"


def test_bar_closes_are_drawn_at_the_bar_close_time() -> None:
    path = mid_path(big_report()["parents"][0])

    # the bar opened at 14:00 closes at 14:01 with price 100.00; none before the start
    assert path[0] == (START, 100.0)
    assert path[1] == (datetime(2024, 3, 4, 14, 1, tzinfo=UTC), 100.0)
    assert len(path) == 62  # start, 60 bar closes (14:01..15:00), end
    assert path[-1][0] == START + timedelta(minutes=60)  # the end mid closes the line


def test_thousands_of_children_get_sensible_bins_despite_an_outlier() -> None:
    # Arrange
    report = big_report()
    values = [c["arrival_slippage_bps"] for c in report["parents"][0]["children"]]

    # Act
    figure = slippage_histogram(report, "p1")
    bins = histogram_bins(values)

    # Assert
    assert figure.data[0].type == "histogram"
    assert 8 <= (bins["end"] - bins["start"]) / bins["size"] <= 61
    assert bins["end"] < 50  # the 900 bps outlier is outside the binned range
    assert max(figure.data[0].x) < bins["end"]  # ... and counted in the last bin
    assert "beyond the range" in figure.layout.title.text


def test_tooltips_define_every_measure() -> None:
    # Arrange
    report = one_child_report()
    parent = report["parents"][0]

    # Act
    tiles = summary_kpis(report, "p1")
    waterfall = waterfall_chart(parent["tca"], "simulator")

    # Assert: the tiles say fees are in the shortfall and out of the slippage
    hints = {text_of(t.children[0]): t.title for t in tiles if getattr(t, "title", None)}
    assert "FEES INCLUDED" in hints["Shortfall incl. fees"]
    assert "Fees are EXCLUDED" in hints["vs arrival"]
    assert "interval VWAP" in hints["vs VWAP"]
    legend = text_of(tiles[-1])
    assert "+9.9 bps" in legend and "of which fees +10.0 bps" in legend
    bars = dict(zip(waterfall.data[0].x, waterfall.data[0].customdata, strict=True))
    assert set(bars) == {"Delay", "Spread", "Impact", "Timing", "Fees", "Opportunity", "Total"}
    assert "+0.4 bps is the mid moved by our own flow" in bars["Impact"].replace("<br>", " ")
    assert "fees are included" in bars["Total"].replace("<br>", " ")


def test_a_session_never_joins_the_lines_of_different_parents() -> None:
    # Arrange: two 2,000-fill parents of different symbols and price levels
    first = big_report(seed=1)["parents"][0]
    second = {**big_report(seed=2)["parents"][0], "parent_id": "p2", "symbol": "ETHUSDT"}
    report = {"parents": [first, second]}

    # Act
    figure = execution_chart(report)

    # Assert: one mid line and one WebGL fill trace per parent, each in time order, in bps
    names = [t.name for t in figure.data]
    assert names == ["BTCUSDT BUY market mid", "BTCUSDT BUY fills",
                     "ETHUSDT BUY market mid", "ETHUSDT BUY fills"]
    for trace in figure.data:
        assert list(trace.x) == sorted(trace.x)
        assert max(abs(y) for y in trace.y) < 200  # bps from each parent's own arrival
    assert {figure.data[1].type, figure.data[3].type} == {"scattergl"}

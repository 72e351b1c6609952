"""The VWAP profile fit: hour x minute weights, calibration window only, module rendering."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oms.algos.profile_fit import fit_profile, render_module


def _write_klines(path: Path, start: datetime, minutes: int, volume_of: object) -> None:
    rows = ["open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            "taker_buy_volume,taker_buy_quote_volume,ignore"]
    for i in range(minutes):
        t = start + timedelta(minutes=i)
        ms = int(t.timestamp() * 1000)
        volume = volume_of(t)  # type: ignore[operator]
        rows.append(f"{ms},1,1,1,1,{volume},{ms + 59_999},{volume},1,0,0,0")
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(rows) + "\n")


def test_fit_finds_the_top_of_hour_peak_and_ignores_reserved_days(tmp_path: Path) -> None:
    path = tmp_path / "TESTUSDT-1m.csv.gz"

    def volume(t: datetime) -> float:
        if t >= datetime(2024, 5, 1, tzinfo=UTC):
            return 1_000_000.0 if t.minute == 30 else 1.0  # reserved days must not count
        return (2.0 if t.minute == 0 else 1.0) * (3.0 if t.hour == 14 else 1.0)

    _write_klines(path, datetime(2024, 4, 29, tzinfo=UTC), 4 * 1440, volume)

    hours, minutes = fit_profile(path)

    assert minutes[0] == pytest.approx(2 * minutes[1], rel=1e-6)
    assert minutes[30] == pytest.approx(minutes[1], rel=1e-6)
    assert sum(minutes) == pytest.approx(60)
    assert hours[14] == pytest.approx(3 * hours[13], rel=1e-6)
    assert sum(hours) == pytest.approx(24)


def test_rendered_module_is_valid_python_with_the_same_numbers() -> None:
    profiles = {"TESTUSDT": ([1.0] * 24, [0.5, 1.5] * 30)}

    namespace: dict[str, object] = {}
    exec(render_module(profiles), namespace)

    assert namespace["HOUR_WEIGHT"] == {"TESTUSDT": tuple([1.0] * 24)}
    assert namespace["MINUTE_WEIGHT"] == {"TESTUSDT": tuple([0.5, 1.5] * 30)}

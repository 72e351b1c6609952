"""The selection policy table and the registry."""

from __future__ import annotations

from decimal import Decimal

import pytest
from algo_fakes import BTC, make_parent

from oms.algos.iceberg import IcebergAlgo
from oms.algos.market import MarketAlgo
from oms.algos.pov import PovAlgo
from oms.algos.registry import create_algo
from oms.algos.selection import SelectionPolicy, select_algo
from oms.algos.shortfall import ShortfallAlgo
from oms.algos.twap import TwapAlgo
from oms.algos.vwap import VwapAlgo
from oms.errors import ConfigError
from oms.model.enums import AlgoName


@pytest.mark.parametrize(
    ("size", "urgency", "confidence", "expected"),
    [
        ("10000", 0.9, 0.9, AlgoName.MARKET),  # rule 1 beats size
        ("100", 0.71, 0.81, AlgoName.MARKET),
        ("100", 0.7, 0.9, AlgoName.IS),  # urgency not > 0.7
        ("100", 0.9, 0.8, AlgoName.IS),  # confidence not > 0.8
        ("100", 0.9, None, AlgoName.IS),  # no confidence: never MARKET
        ("3000.01", 0.5, 0.5, AlgoName.VWAP),
        ("3000", 0.5, 0.5, AlgoName.IS),  # not over 3,000
        ("-5000", 0.1, None, AlgoName.VWAP),  # size is absolute
        ("2000", 0.29, None, AlgoName.TWAP),
        ("2000", 0.3, None, AlgoName.IS),
    ],
)
def test_policy_table(size: str, urgency: float, confidence: float | None,
                      expected: AlgoName) -> None:
    algo, reason = select_algo(Decimal(size), urgency, confidence)

    assert algo is expected
    assert reason and reason.endswith(
        {"market": "MARKET", "vwap": "VWAP", "twap": "TWAP", "is": "implementation shortfall"}[
            algo.value])


def test_policy_can_be_configured() -> None:
    algo, _ = select_algo(Decimal(2_000), 0.5, None, SelectionPolicy(vwap_size_usd=Decimal(1_000)))

    assert algo is AlgoName.VWAP


def test_out_of_range_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        select_algo(Decimal(100), 1.5, None)
    with pytest.raises(ValueError):
        select_algo(Decimal(100), 0.5, -0.1)


@pytest.mark.parametrize(
    ("name", "cls"),
    [(AlgoName.MARKET, MarketAlgo), (AlgoName.TWAP, TwapAlgo), (AlgoName.VWAP, VwapAlgo),
     (AlgoName.IS, ShortfallAlgo), (AlgoName.POV, PovAlgo), (AlgoName.ICEBERG, IcebergAlgo)],
)
def test_registry_maps_every_name(name: AlgoName, cls: type) -> None:
    assert isinstance(create_algo(make_parent(algo=name), seed=1, filters=BTC), cls)


def test_registry_refuses_auto_and_bad_options() -> None:
    with pytest.raises(ConfigError, match="auto"):
        create_algo(make_parent(algo=AlgoName.AUTO), seed=1, filters=BTC)
    with pytest.raises(ConfigError, match="bad options"):
        create_algo(make_parent(algo=AlgoName.TWAP), seed=1, filters=BTC, no_such_option=1)


def test_registry_merges_parent_params_under_keyword_options() -> None:
    parent = make_parent(algo=AlgoName.TWAP)
    parent.algo_params = {"slices": 4, "placement": "aggressive"}

    algo = create_algo(parent, seed=1, filters=BTC, slices=6)

    assert isinstance(algo, TwapAlgo)
    assert algo.slice_count == 6 and algo.options.placement.style == "aggressive"

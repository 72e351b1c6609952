"""The evaluation script's algorithm selection (subsets and per-algorithm options)."""

from __future__ import annotations

import pytest

from benchmarks.algo_eval import ALGORITHMS, IDEAL, select_algorithms
from benchmarks.vwap_baseline import BASELINE
from oms.model.enums import AlgoName


def test_default_selection_is_every_algorithm() -> None:
    chosen = select_algorithms(None, None)

    assert list(chosen) == [*ALGORITHMS, *IDEAL, *BASELINE]


def test_subset_with_options_merged_over_the_defaults() -> None:
    chosen = select_algorithms("vwap_static, twap",
                               '{"vwap_static": {"passive_window_s": 300}}')

    assert list(chosen) == ["vwap_static", "twap"]
    assert chosen["vwap_static"] == (AlgoName.VWAP,
                                     {"follow_realised": False, "passive_window_s": 300})
    assert ALGORITHMS["vwap_static"][1] == {"follow_realised": False}  # defaults untouched


def test_unknown_algorithm_names_are_refused() -> None:
    with pytest.raises(SystemExit, match="nope"):
        select_algorithms("vwap,nope", None)

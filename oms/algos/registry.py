"""``create_algo``: the one place that maps an AlgoName to its class.

Options come from ``parent.algo_params`` overridden by the keyword ``options``; each algorithm
documents its own (TWAP: ``slices``, ``min_slices``, ``max_slices``; POV: ``target_rate``, ...)
and all share the executor's (``placement``, ``max_child_notional``, ``participation_cap``,
``min_child_interval_s``, ``max_rejects``, ``retry_base_s``, ``cross_margin_s``).
"""

from __future__ import annotations

from typing import Any

from oms.algos.base import ExecutionAlgo
from oms.algos.iceberg import IcebergAlgo
from oms.algos.market import MarketAlgo
from oms.algos.pov import PovAlgo
from oms.algos.shortfall import ShortfallAlgo
from oms.algos.twap import TwapAlgo
from oms.algos.vwap import VwapAlgo
from oms.errors import ConfigError
from oms.model.enums import AlgoName
from oms.model.orders import ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["ALGORITHMS", "create_algo"]

ALGORITHMS: dict[AlgoName, type[ExecutionAlgo]] = {
    AlgoName.MARKET: MarketAlgo,
    AlgoName.TWAP: TwapAlgo,
    AlgoName.VWAP: VwapAlgo,
    AlgoName.IS: ShortfallAlgo,
    AlgoName.POV: PovAlgo,
    AlgoName.ICEBERG: IcebergAlgo,
}


def create_algo(
    parent: ParentOrder, *, seed: int, filters: SymbolFilters, **options: Any
) -> ExecutionAlgo:
    """Build the algorithm named by ``parent.algo`` (AUTO must have been resolved before)."""
    if parent.algo is AlgoName.AUTO:
        raise ConfigError(f"parent {parent.parent_id}: algo=auto must be resolved before creation")
    cls = ALGORITHMS.get(parent.algo)
    if cls is None:
        raise ConfigError(f"parent {parent.parent_id}: no algorithm named {parent.algo!r}")
    merged = {**parent.algo_params, **options}
    try:
        return cls(parent, seed=seed, filters=filters, **merged)  # type: ignore[call-arg]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"parent {parent.parent_id}: bad options for {parent.algo}: {exc}"
        ) from exc

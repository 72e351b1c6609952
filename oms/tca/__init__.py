"""Transaction cost analysis: pure functions over fills and market data, and the ExecutionReport.

Build a SessionExecution (inputs), then ``build_execution_report(session, generated_at)``.
"""

from oms.tca.daily import daily_summary
from oms.tca.inputs import (
    ChildLatencies,
    ParentExecution,
    SessionExecution,
    TargetPosition,
    parent_execution,
)
from oms.tca.intervals import MarketWindow, interval_twap, interval_volume, interval_vwap
from oms.tca.measures import slippage_bps
from oms.tca.quality import QualityScores, quality_scores
from oms.tca.report import (
    FILL_CSV_COLUMNS,
    REPORT_VERSION,
    analyse_parent,
    build_execution_report,
    fills_csv,
)
from oms.tca.shortfall import Shortfall, decompose

__all__ = [
    "FILL_CSV_COLUMNS",
    "REPORT_VERSION",
    "ChildLatencies",
    "MarketWindow",
    "ParentExecution",
    "QualityScores",
    "SessionExecution",
    "Shortfall",
    "TargetPosition",
    "analyse_parent",
    "build_execution_report",
    "daily_summary",
    "decompose",
    "fills_csv",
    "interval_twap",
    "interval_volume",
    "interval_vwap",
    "parent_execution",
    "quality_scores",
    "slippage_bps",
]

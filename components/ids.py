"""Component ids of the dashboard. The first block is a public contract (tests outside the
repository rely on it): keep those values exactly. The rest are ours and may change."""

from __future__ import annotations

__all__ = [
    "ACCOUNTS_TABLE",
    "ACCOUNT_PICK",
    "ACCOUNT_RELOAD",
    "ACCOUNT_STRIP",
    "ACCOUNT_SWITCHER",
    "ALERTS_BADGE",
    "ALERTS_BUTTON",
    "ALERTS_FOOTER",
    "ALERTS_LIST",
    "ALERTS_PANEL",
    "ALERTS_SEEN",
    "BREAKER_IDS",
    "BREAKER_RESET",
    "BREAKER_RESET_NAME",
    "BREAKER_SUMMARY",
    "CANCEL_CONFIRM",
    "CANCEL_FEEDBACK",
    "CANCEL_PARENT",
    "CHILD_COLUMNS_CHOICE",
    "CHILD_GRID",
    "CHILD_GRID_BOX",
    "CHILD_GRID_EMPTY",
    "CHILD_WORKING_ONLY",
    "ENGINE_HEALTH",
    "EQUITY_POINT",
    "FRAME_ACTION",
    "FRAME_NOTICE",
    "HALT_REASON",
    "KILL_SWITCH",
    "LIVE_INTERVAL",
    "ORDERS_COUNTS",
    "ORDERS_REFRESH",
    "OVERVIEW_EQUITY",
    "OVERVIEW_EQUITY_RANGE",
    "OVERVIEW_FILLS",
    "OVERVIEW_KPIS",
    "OVERVIEW_PARENTS",
    "OVERVIEW_POSITIONS",
    "PARENT_COLUMNS_CHOICE",
    "PARENT_DETAIL",
    "PARENT_FILLS",
    "PARENT_GRID",
    "PARENT_GRID_BOX",
    "PARENT_GRID_EMPTY",
    "PARENT_WORKING_ONLY",
    "REBALANCE_ALGO",
    "REBALANCE_CONFIRM",
    "REBALANCE_CONFIRM_BACK",
    "REBALANCE_CONFIRM_BODY",
    "REBALANCE_CONFIRM_DIALOG",
    "REBALANCE_DURATION",
    "REBALANCE_FEEDBACK",
    "REBALANCE_FROM_TABLE",
    "REBALANCE_PREVIEW",
    "REBALANCE_PREVIEW_TABLE",
    "REBALANCE_SUBMIT",
    "REBALANCE_TABLE",
    "REBALANCE_TABLE_ADD",
    "REBALANCE_TEXT",
    "REBALANCE_URGENCY",
    "RECONCILE_ACTION",
    "RECONCILE_FEEDBACK",
    "RECONCILE_MISMATCHES",
    "RECONCILE_REASON",
    "RECONCILE_SHOWN",
    "RECONCILE_STATUS",
    "RESUBMIT_CONFIRM",
    "RESUBMIT_FEEDBACK",
    "RESUBMIT_PARENT",
    "RESUME_REASON",
    "RESUME_TRADING",
    "RISK_BREAKERS",
    "RISK_FEEDBACK",
    "RISK_USAGE",
    "RISK_VENUES",
    "RISK_VIOLATIONS_GRID",
    "SELECTED_PARENT",
    "SIGNAL_CONFIDENCE",
    "SIGNAL_FEEDBACK",
    "SIGNAL_KIND",
    "SIGNAL_PREVIEW",
    "SIGNAL_PREVIEW_BOX",
    "SIGNAL_SIDE",
    "SIGNAL_SIZE",
    "SIGNAL_SIZE_MODE",
    "SIGNAL_SUBMIT",
    "SIGNAL_SYMBOL",
    "SIGNAL_URGENCY",
    "TCA_DOWNLOAD_CSV",
    "TCA_DOWNLOAD_CSV_DATA",
    "TCA_DOWNLOAD_JSON",
    "TCA_DOWNLOAD_JSON_DATA",
    "TCA_ESTIMATE_CHART",
    "TCA_ESTIMATE_TABLE",
    "TCA_EXECUTION_CHART",
    "TCA_PARENT",
    "TCA_QUALITY",
    "TCA_SESSION",
    "TCA_SLIPPAGE_HIST",
    "TCA_SUMMARY",
    "TCA_WATERFALL",
    "TRADING_STATE",
    "VENUE_CLOCK",
]

# -- contract ids (issues 2 and 7) -----------------------------------------------------------
TRADING_STATE = "trading-state"
KILL_SWITCH = "kill-switch"
REBALANCE_TEXT = "rebalance-text"
REBALANCE_ALGO = "rebalance-algo"
REBALANCE_DURATION = "rebalance-duration"
REBALANCE_SUBMIT = "rebalance-submit"
REBALANCE_FEEDBACK = "rebalance-feedback"
PARENT_GRID = "parent-orders-grid"
CHILD_GRID = "child-orders-grid"
REBALANCE_URGENCY = "rebalance-urgency"
REBALANCE_PREVIEW = "rebalance-preview"
REBALANCE_PREVIEW_TABLE = "rebalance-preview-table"
RESUME_REASON = "resume-reason"
RESUME_TRADING = "resume-trading"
BREAKER_IDS = {
    "high_slippage": "breaker-high-slippage",
    "high_rejection": "breaker-high-rejection",
    "high_latency": "breaker-high-latency",
    "market_stress": "breaker-market-stress",
}
RISK_VIOLATIONS_GRID = "risk-violations-grid"
TCA_SUMMARY = "tca-summary"
TCA_EXECUTION_CHART = "tca-execution-chart"
TCA_WATERFALL = "tca-waterfall"
TCA_DOWNLOAD_JSON = "tca-download-json"
# issue 17: the confirmation a submit opens (rebalance-submit validates, then asks)
REBALANCE_CONFIRM = "rebalance-confirm"

# -- frame -------------------------------------------------------------------------------------
LIVE_INTERVAL = "live-interval"
FRAME_ACTION = "frame-action"
FRAME_NOTICE = "frame-notice"
BREAKER_SUMMARY = "breaker-summary"
VENUE_CLOCK = "venue-clock"
ENGINE_HEALTH = "engine-health"
HALT_REASON = "halt-reason"
ACCOUNT_STRIP = "account-strip"
ACCOUNT_SWITCHER = "account-switcher"  # the frame's account choice (every page)
ACCOUNT_PICK = "account-pick"  # its box (hidden while the server has one account)
ACCOUNT_RELOAD = "account-reload"  # reloads the page once the switcher chose another account
ACCOUNTS_TABLE = "accounts-table"  # /accounts: the all-accounts overview
EQUITY_POINT = "equity-point"
ALERTS_BUTTON = "alerts-button"  # the notification centre (components/alerts.py)
ALERTS_BADGE = "alerts-badge"
ALERTS_PANEL = "alerts-panel"
ALERTS_LIST = "alerts-list"
ALERTS_FOOTER = "alerts-footer"
ALERTS_SEEN = "alerts-seen"

# -- overview ----------------------------------------------------------------------------------
OVERVIEW_KPIS = "overview-kpis"
OVERVIEW_POSITIONS = "overview-positions"
OVERVIEW_PARENTS = "overview-parents"
OVERVIEW_FILLS = "overview-fills"
OVERVIEW_EQUITY = "overview-equity"
# blotter boxes (the empty-state note), working-only toggles and column choosers (/orders)
PARENT_GRID_BOX = "parent-orders-box"
PARENT_GRID_EMPTY = "parent-orders-empty"
PARENT_WORKING_ONLY = "parent-orders-working-only"
PARENT_COLUMNS_CHOICE = "parent-orders-columns"
CHILD_GRID_BOX = "child-orders-box"
CHILD_GRID_EMPTY = "child-orders-empty"
CHILD_WORKING_ONLY = "child-orders-working-only"
CHILD_COLUMNS_CHOICE = "child-orders-columns"
OVERVIEW_EQUITY_RANGE = "overview-equity-range"  # session / day / all, read from the database

# -- rebalance and signal forms ----------------------------------------------------------------
REBALANCE_TABLE = "rebalance-table"
REBALANCE_TABLE_ADD = "rebalance-table-add"
REBALANCE_FROM_TABLE = "rebalance-from-table"
REBALANCE_CONFIRM_DIALOG = "rebalance-confirm-dialog"
REBALANCE_CONFIRM_BODY = "rebalance-confirm-body"
REBALANCE_CONFIRM_BACK = "rebalance-confirm-back"
SIGNAL_SYMBOL = "signal-symbol"
SIGNAL_SIDE = "signal-side"
SIGNAL_SIZE = "signal-size"
SIGNAL_CONFIDENCE = "signal-confidence"
SIGNAL_URGENCY = "signal-urgency"
SIGNAL_KIND = "signal-kind"
SIGNAL_SUBMIT = "signal-submit"
SIGNAL_FEEDBACK = "signal-feedback"
SIGNAL_SIZE_MODE = "signal-size-mode"  # "usd" (the Size USD field) or "auto" (Kelly x vol)
SIGNAL_PREVIEW = "signal-preview"
SIGNAL_PREVIEW_BOX = "signal-preview-box"

# -- orders ------------------------------------------------------------------------------------
SELECTED_PARENT = "selected-parent"
PARENT_DETAIL = "parent-detail"
PARENT_FILLS = "parent-fills"
CANCEL_PARENT = "cancel-parent"
CANCEL_FEEDBACK = "cancel-feedback"
CANCEL_CONFIRM = "cancel-confirm"  # the ConfirmDialogProvider around the cancel button
RESUBMIT_PARENT = "resubmit-parent"
RESUBMIT_CONFIRM = "resubmit-confirm"  # the ConfirmDialogProvider around the resubmit button
RESUBMIT_FEEDBACK = "resubmit-feedback"
ORDERS_REFRESH = "orders-refresh"
ORDERS_COUNTS = "orders-counts"

# -- tca ---------------------------------------------------------------------------------------
TCA_SESSION = "tca-session"
TCA_PARENT = "tca-parent"
TCA_SLIPPAGE_HIST = "tca-slippage-histogram"
TCA_QUALITY = "tca-quality"
TCA_DOWNLOAD_JSON_DATA = "tca-download-json-data"
TCA_DOWNLOAD_CSV = "tca-download-csv"
TCA_DOWNLOAD_CSV_DATA = "tca-download-csv-data"
TCA_ESTIMATE_TABLE = "tca-estimate-table"  # estimate vs realised, per parent
TCA_ESTIMATE_CHART = "tca-estimate-chart"

# -- risk --------------------------------------------------------------------------------------
RISK_USAGE = "risk-usage"
RISK_BREAKERS = "risk-breakers"
RISK_VENUES = "risk-venues"
RISK_FEEDBACK = "risk-feedback"
BREAKER_RESET = "breaker-reset"
BREAKER_RESET_NAME = "breaker-reset-name"

# -- risk: running reconciliation ---------------------------------------------------------------
RECONCILE_STATUS = "reconcile-status"
RECONCILE_MISMATCHES = "reconcile-mismatches"
RECONCILE_SHOWN = "reconcile-shown"  # the mismatches on screen (re-rendered only on a change)
RECONCILE_REASON = "reconcile-reason"
RECONCILE_FEEDBACK = "reconcile-feedback"
# pattern-matching id type of the per-mismatch buttons:
# {"type": RECONCILE_ACTION, "mismatch": <mismatch id>, "action": "adopt" | "cancel" | "ignore"}
RECONCILE_ACTION = "reconcile-action"

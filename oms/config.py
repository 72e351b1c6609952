"""Settings (pydantic-settings, environment prefix ``OMS_``; nested with ``__``).

Examples: ``OMS_DATABASE_URL=postgresql+psycopg://...``, ``OMS_RISK__MAX_POSITION_USD=20000``,
``OMS_PAPER__TAKER_FEE_BPS=7.5``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BinanceSettings",
    "BreakerSettings",
    "CircuitBreakerSettings",
    "PaperVenueSettings",
    "RiskLimits",
    "Settings",
    "VenueName",
]

VenueName = Literal["paper", "binance-testnet", "binance"]


class BreakerSettings(BaseModel):
    """One circuit breaker: ``count`` observations above ``threshold`` within ``window_s`` trip it.

    ``threshold`` is in the breaker's own unit (bps, percent or ms). A tripped breaker moves the
    account to ``action``; with ``cooldown_s`` it becomes re-armable after that long (a person
    still re-arms it). ``rate_window_s`` is the rolling window of order results over which the
    rejection rate is computed (rejection breaker only; defaults to ``window_s``).
    """

    threshold: float
    count: int = Field(gt=0)
    window_s: float = Field(gt=0)
    action: Literal["HALTED", "REDUCING"] = "HALTED"
    cooldown_s: float | None = Field(default=None, gt=0)
    enabled: bool = True
    rate_window_s: float | None = Field(default=None, gt=0)


class CircuitBreakerSettings(BaseModel):
    """The four circuit breakers (exact defaults from the product spec)."""

    high_slippage: BreakerSettings = Field(
        default_factory=lambda: BreakerSettings(threshold=25.0, count=3, window_s=300.0)
    )  # a fill slipping more than 25 bps, 3 times in 5 minutes
    high_rejection: BreakerSettings = Field(
        default_factory=lambda: BreakerSettings(threshold=10.0, count=5, window_s=120.0)
    )  # rejection rate above 10 %, 5 times in 2 minutes
    high_latency: BreakerSettings = Field(
        default_factory=lambda: BreakerSettings(threshold=1000.0, count=5, window_s=180.0)
    )  # order round trip above 1,000 ms, 5 times in 3 minutes
    market_stress: BreakerSettings = Field(
        default_factory=lambda: BreakerSettings(threshold=100.0, count=2, window_s=60.0)
    )  # price impact above 100 bps, 2 times in 1 minute


class RiskLimits(BaseModel):
    """Pre-trade limits (defaults from the product spec)."""

    max_position_usd: Decimal = Decimal(10_000)
    max_gross_exposure_usd: Decimal = Decimal(30_000)
    max_daily_loss_usd: Decimal = Decimal(500)
    max_orders_per_minute: int = 20
    max_orders_per_minute_per_symbol: dict[str, int] = Field(default_factory=dict)
    max_order_notional_usd: Decimal = Decimal(5_000)
    price_collar_pct: Decimal = Decimal(5)
    duplicate_window_s: float = 1.0
    max_target_usd: Decimal = Decimal(1_000_000)  # a rebalance target above this is absurd


class PaperVenueSettings(BaseModel):
    """The simulated exchange: fees, latency and faults (all deterministic for a seed)."""

    maker_fee_bps: Decimal = Decimal(10)
    taker_fee_bps: Decimal = Decimal(10)
    latency_ms: float = 20.0
    latency_jitter_ms: float = 10.0
    reject_rate: float = 0.0
    impact_model: Literal["sqrt", "linear"] = "sqrt"
    impact_coefficient: float = 0.7  # Y in impact ~ Y * sigma * sqrt(Q / V)
    impact_permanent_fraction: float = 0.5  # share of each impact step that never decays
    impact_decay_s: float = 600.0  # time constant of the temporary impact (seconds)
    queue_ahead_factor: float = 1.0  # share of the displayed level ahead of a new resting order
    max_open_orders: int | None = None  # None: the symbol's MAX_NUM_ORDERS filter (200)
    cancel_latency_ms: float | None = None  # median cancel round trip; None: latency_ms


class BinanceSettings(BaseModel):
    """The Binance venue (``OMS_BINANCE__*``). Keys are never settings: only env var NAMES or a
    key file outside the repository are configured here."""

    testnet_key_env: str = "BINANCE_TESTNET_API_KEY"
    testnet_secret_env: str = "BINANCE_TESTNET_API_SECRET"
    production_key_env: str = "BINANCE_API_KEY"
    production_secret_env: str = "BINANCE_API_SECRET"
    key_file: Path | None = None  # lines "api_key=..." and "api_secret=..."; outside the repo
    confirm_production: bool = False  # second, explicit opt-in for the production venue
    rest_base_url: str | None = None  # override (tests, proxies): "<base>/api", "<base>/sapi"
    recv_window_ms: int = Field(default=5000, gt=0, le=60000)
    request_timeout_s: float = Field(default=10.0, gt=0)
    rate_limit_margin: float = Field(default=0.8, gt=0, le=1)  # use at most 80% of each limit
    time_sync_interval_s: float = Field(default=300.0, gt=0)
    exchange_info_refresh_s: float = Field(default=3600.0, gt=0)
    rest_poll_interval_s: float = Field(default=2.0, gt=0)  # REST fallback while the stream is down
    stream_silence_s: float = Field(default=90.0, gt=0)  # no message for this long: reconnect
    use_user_stream: bool = True
    use_market_stream: bool = True  # websockets for quotes/trades/klines (REST fallback always on)


class Settings(BaseSettings):
    """All configuration of one OMS process."""

    model_config = SettingsConfigDict(env_prefix="OMS_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite:///var/oms.db"
    venue: VenueName = "paper"
    market_data: Path | None = None
    speed: float = Field(default=1.0, gt=0)
    seed: int = 7
    starting_balance: Decimal = Decimal(100_000)
    quote_asset: str = "USDT"
    symbols: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    tick_interval_ms: int = Field(default=250, gt=0)
    min_notional: Decimal = Decimal(5)
    default_duration_minutes: float = 30.0
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    # Authentication (off when both are empty). Users for the pages: name -> password, plain or a
    # werkzeug hash ("scrypt:..."/"pbkdf2:..."), e.g. OMS_AUTH_USERS='{"desk":"scrypt:..."}'.
    # The bearer token for the REST API: OMS_API_TOKEN. Never logged, never shown.
    auth_users: dict[str, SecretStr] = Field(default_factory=dict)
    api_token: SecretStr | None = None
    risk: RiskLimits = Field(default_factory=RiskLimits)
    breakers: CircuitBreakerSettings = Field(default_factory=CircuitBreakerSettings)
    paper: PaperVenueSettings = Field(default_factory=PaperVenueSettings)
    binance: BinanceSettings = Field(default_factory=BinanceSettings)

    @field_validator("symbols")
    @classmethod
    def _upper_symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one symbol is required")
        return [s.strip().upper() for s in value]

"""Settings (pydantic-settings, environment prefix ``OMS_``; nested with ``__``).

Examples: ``OMS_DATABASE_URL=postgresql+psycopg://...``, ``OMS_RISK__MAX_POSITION_USD=20000``,
``OMS_PAPER__TAKER_FEE_BPS=7.5``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PaperVenueSettings", "RiskLimits", "Settings", "VenueName"]

VenueName = Literal["paper", "binance-testnet", "binance"]


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
    risk: RiskLimits = Field(default_factory=RiskLimits)
    paper: PaperVenueSettings = Field(default_factory=PaperVenueSettings)

    @field_validator("symbols")
    @classmethod
    def _upper_symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one symbol is required")
        return [s.strip().upper() for s in value]

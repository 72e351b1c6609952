"""Settings (pydantic-settings, environment prefix ``OMS_``; nested with ``__``).

Examples: ``OMS_DATABASE_URL=postgresql+psycopg://...``, ``OMS_RISK__MAX_POSITION_USD=20000``,
``OMS_PAPER__TAKER_FEE_BPS=7.5``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "AlertSettings",
    "BinanceSettings",
    "BreakerSettings",
    "CircuitBreakerSettings",
    "PaperVenueSettings",
    "RiskLimits",
    "RoutingSettings",
    "Settings",
    "SizingSettings",
    "VenueName",
]

VenueName = Literal["paper", "binance-testnet", "binance"]
_USER_NAME = re.compile(r"[^\s:\x00-\x1f\x7f]{1,48}")  # Basic auth splits at the first ':'


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


# The product spec's breaker defaults; a partial setting (``OMS_BREAKERS__HIGH_SLIPPAGE__THRESHOLD``
# alone) is laid over them field by field, so count and window keep their defaults.
_BREAKER_DEFAULTS: dict[str, dict[str, Any]] = {
    "high_slippage": {"threshold": 25.0, "count": 3, "window_s": 300.0},  # a child slipping
    # more than 25 bps (its average fill vs the mid at its creation), 3 times in 5 minutes
    "high_rejection": {"threshold": 10.0, "count": 5, "window_s": 120.0},  # rejection rate
    # above 10 %, 5 times in 2 minutes
    "high_latency": {"threshold": 1000.0, "count": 5, "window_s": 180.0},  # order round trip
    # above 1,000 ms, 5 times in 3 minutes
    "market_stress": {"threshold": 100.0, "count": 2, "window_s": 60.0},  # a market move above
    # 100 bps between two ticks, 2 times in 1 minute
}


def _breaker_default(name: str) -> BreakerSettings:
    return BreakerSettings(**_BREAKER_DEFAULTS[name])


class CircuitBreakerSettings(BaseModel):
    """The four circuit breakers (exact defaults from the product spec).

    Each breaker given as a mapping is merged over its own defaults, so setting one field (from
    the environment or JSON) keeps the others.
    """

    high_slippage: BreakerSettings = Field(
        default_factory=lambda: _breaker_default("high_slippage"))
    high_rejection: BreakerSettings = Field(
        default_factory=lambda: _breaker_default("high_rejection"))
    high_latency: BreakerSettings = Field(
        default_factory=lambda: _breaker_default("high_latency"))
    market_stress: BreakerSettings = Field(
        default_factory=lambda: _breaker_default("market_stress"))

    @model_validator(mode="before")
    @classmethod
    def _merge_partial_breakers(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        for name, defaults in _BREAKER_DEFAULTS.items():
            given = merged.get(name)
            if isinstance(given, Mapping):
                merged[name] = {**defaults, **given}
        return merged


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
    # Spot account: no short position and no borrowed cash. Pre-trade reserves what working
    # children may still take: sells against the position, buys against cash. A buy reserves
    # its notional (limit price, else the touch) plus this buffer (fees, walking the book).
    spot: bool = True
    buy_reserve_buffer_bps: Decimal = Field(default=Decimal(50), ge=0)


class SizingSettings(BaseModel):
    """Auto size of a strategy signal (``"size": "auto"``): fractional Kelly from the strategy's
    edge, scaled by volatility targeting; formula and sources in ``oms.sizing``."""

    win_rate: Decimal = Field(default=Decimal("0.821"), gt=0, lt=1)  # DipMaster's 82.1% target
    payoff_ratio: Decimal = Field(default=Decimal("0.6"), gt=0)  # average win / average loss
    kelly_fraction: Decimal = Field(default=Decimal("0.25"), gt=0, le=1)  # quarter Kelly
    target_volatility: Decimal = Field(default=Decimal("0.5"), gt=0)  # annualised
    max_leverage: Decimal = Field(default=Decimal(1), gt=0)
    volatility_lookback_minutes: int = Field(default=240, ge=3)  # recent 1-minute bars measured


class PaperVenueSettings(BaseModel):
    """The simulated exchange: fees, latency and faults (all deterministic for a seed)."""

    maker_fee_bps: Decimal = Decimal(10)
    taker_fee_bps: Decimal = Decimal(10)
    latency_ms: float = 20.0
    latency_jitter_ms: float = 10.0
    reject_rate: float = 0.0
    impact_model: Literal["sqrt", "linear"] = "sqrt"
    impact_coefficient: float = 0.7  # Y in impact ~ Y * sigma * sqrt(Q / V)
    impact_permanent_fraction: float = 0.5  # permanent shift = this x I(cumulative net quantity)
    impact_decay_s: float = 600.0  # time constant of the temporary impact (seconds)
    # a maker fill's impact weight against a taker fill's; None: the figure fitted on the
    # Binance recordings (oms.market.calibration.PASSIVE_IMPACT_RATIO)
    impact_passive_ratio: float | None = Field(default=None, ge=0.0, le=1.0)
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
    # An order sent with an unknown outcome is taken as never placed only this long after
    # recvWindow + the request timeout (Binance shows accepted orders to queries with a lag),
    # and only after several queries in a row found nothing.
    order_visibility_s: float = Field(default=30.0, ge=0)
    use_user_stream: bool = True
    use_market_stream: bool = True  # websockets for quotes/trades/klines (REST fallback always on)


class RoutingSettings(BaseModel):
    """Several paper venues and smart order routing (``OMS_ROUTING__*``; oms.engine.routing).

    ``venues``: paper profiles by name (oms.venues.profiles: binance, okx, bybit), as a JSON
    list or "binance,okx"; empty (the default) keeps the one venue of ``OMS_VENUE``. ``route``:
    ``sor`` (the SmartOrderRouter chooses, splits when depth demands) or one venue's name (all
    there, for comparison). Limits are notional USD at a venue (held plus working), per venue
    and per symbol on a venue. The names are checked against the profiles at start
    (``oms.venues.profiles.check_routing``), and a limit below the venue's minimum notional is
    refused there too.
    """

    venues: list[str] = Field(default_factory=list)
    route: str = "sor"
    # "split": the account's starting balance shared equally by the venues; "each": every venue
    # holds all of it (comparisons: routing then meets no balance the single venue would not)
    funding: Literal["split", "each"] = "split"
    max_venue_notional_usd: dict[str, Decimal] = Field(default_factory=dict)
    max_symbol_venue_notional_usd: dict[str, Decimal] = Field(default_factory=dict)
    # a venue's health breaker: this many failures (unreachable, rejected, slow acks) in the
    # window make it unhealthy for the cool-down; the router sends nothing there meanwhile
    health_failures: int = Field(default=3, gt=0)
    health_window_s: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    health_cooldown_s: float = Field(default=120.0, gt=0, allow_inf_nan=False)

    @field_validator("venues", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip().lower() for name in value.split(",") if name.strip()]
        return value

    @field_validator("venues")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        names = [name.strip().lower() for name in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"OMS_ROUTING__VENUES lists {', '.join(twice)} twice")
        return names

    @field_validator("route")
    @classmethod
    def _route_name(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("max_venue_notional_usd", "max_symbol_venue_notional_usd")
    @classmethod
    def _positive_limits(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for venue, limit in value.items():
            if not limit.is_finite() or limit <= 0:
                raise ValueError(f"the limit of venue {venue[:40]!r} must be positive, "
                                 f"got {limit}")
        return {venue.strip().lower(): limit for venue, limit in value.items()}


class AlertSettings(BaseModel):
    """Alerts (``OMS_ALERTS__*``): where they are sent and how often (oms.alerts).

    ``urls`` are apprise URLs (``slack://...``, ``tgram://...``, ``mailtos://...``,
    ``json://host:port/path``); each holds tokens, so they are secrets: never logged or shown
    whole. At most ``rate_limit_count`` notifications of one kind leave per
    ``rate_limit_window_s`` (``rate_limit_per_kind`` overrides the count for a kind, e.g.
    ``{"reject_burst": 1}``); the rest are counted as suppressed. The sender's queue holds
    ``queue_size`` alerts; when full the oldest is dropped (and counted).
    """

    urls: list[SecretStr] = Field(default_factory=list)
    rate_limit_count: int = Field(default=5, gt=0)
    rate_limit_window_s: float = Field(default=300.0, gt=0, allow_inf_nan=False)
    rate_limit_per_kind: dict[str, int] = Field(default_factory=dict)
    queue_size: int = Field(default=100, gt=0)
    send_timeout_s: float = Field(default=5.0, gt=0, allow_inf_nan=False)
    # a reject burst: this many rejected or denied children within the window
    reject_burst_count: int = Field(default=5, gt=0)
    reject_burst_window_s: float = Field(default=60.0, gt=0, allow_inf_nan=False)

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, value: list[SecretStr]) -> list[SecretStr]:
        from oms.alerts.redact import unusable_url  # apprise loads its plugins: only when set

        for index, url in enumerate(value):
            problem = unusable_url(url.get_secret_value())
            if problem is not None:  # the URL holds tokens: name its position, never its text
                raise ValueError(f"OMS_ALERTS__URLS[{index}] is refused: {problem}")
        return value

    @field_validator("rate_limit_per_kind")
    @classmethod
    def _known_kinds(cls, value: dict[str, int]) -> dict[str, int]:
        from oms.alerts.model import AlertKind

        known = {kind.value for kind in AlertKind}
        for kind, count in value.items():
            if kind not in known:
                raise ValueError(f"OMS_ALERTS__RATE_LIMIT_PER_KIND: unknown kind {kind[:40]!r} "
                                 f"(one of {', '.join(sorted(known))})")
            if count <= 0:
                raise ValueError(f"OMS_ALERTS__RATE_LIMIT_PER_KIND[{kind}] must be positive")
        return value


class Settings(BaseSettings):
    """All configuration of one OMS process."""

    # hide_input_in_errors: a refused setting must not echo passwords, tokens or database URLs
    model_config = SettingsConfigDict(env_prefix="OMS_", env_nested_delimiter="__", extra="ignore",
                                      hide_input_in_errors=True)

    database_url: str = "sqlite:///var/oms.db"
    venue: VenueName = "paper"
    market_data: Path | None = None
    speed: float = Field(default=1.0, gt=0)
    seed: int = 7
    starting_balance: Decimal = Decimal(100_000)
    quote_asset: str = "USDT"
    symbols: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    tick_interval_ms: int = Field(default=250, gt=0)
    # The overview's equity and P&L history: one sample per this many seconds of market time
    # (oms.engine.history; a backtest samples once a minute unless this is set)
    equity_sample_s: float = Field(default=5.0, gt=0, le=3600, allow_inf_nan=False)
    # Running reconciliation (oms.engine.reconcile): every this many seconds of engine time the
    # OMS's open orders and balances are compared with the venue's. None: 60 s of market time on
    # the paper venue, 30 s of wall time live; 0 disables it. OMS_RECONCILE_INTERVAL_S.
    reconcile_interval_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    min_notional: Decimal = Decimal(5)
    default_duration_minutes: float = 30.0
    # What a restart does with parents that were working: "resume" rebuilds their algorithms
    # and re-plans the rest over the rest of the window; "drain" follows the children the venue
    # still works and sends nothing new; "cancel" cancels those children and ends the parents.
    recovery: Literal["resume", "drain", "cancel"] = "resume"
    # The name of the account this database belongs to: a database written for another account
    # (or another venue) is refused at start.
    account: str = Field(default="main", min_length=1, max_length=64)
    # `oms web`: how long a web worker waits for the engine's reply to a command before it
    # answers "queued, not yet applied" (HTTP 202 with the command id). OMS_COMMAND_TIMEOUT_S.
    command_timeout_s: float = Field(default=10.0, gt=0, le=300, allow_inf_nan=False)
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
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    sizing: SizingSettings = Field(default_factory=SizingSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)

    @field_validator("symbols")
    @classmethod
    def _upper_symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one symbol is required")
        return [s.strip().upper() for s in value]

    @field_validator("auth_users")
    @classmethod
    def _real_users(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        # An empty password is no authentication: refuse it here rather than let it count as
        # "auth configured" (which lifts the loopback-only rule). The secret is never echoed.
        for user, secret in value.items():
            if not _USER_NAME.fullmatch(user):
                raise ValueError(f"user name {user[:64]!r} must be 1 to 48 printable "
                                 "characters without ':' or spaces")
            if not secret.get_secret_value().strip():
                raise ValueError(f"the password of user {user!r} is empty; an empty password "
                                 "is no authentication (set a password or a werkzeug hash)")
        return value

    @field_validator("api_token")
    @classmethod
    def _real_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty; an empty token is no authentication (unset "
                             "OMS_API_TOKEN to disable the bearer token)")
        return value

"""Build a started BinanceVenue from Settings: keys, endpoint, safety checks, stream.

The composition root calls ``build_binance_venue(settings, gate, production_confirmed=...)`` for
``--venue binance-testnet`` (the default live venue) or ``--venue binance`` (production, which
needs the explicit confirmation). Binance limits and bans are per IP: the market feed and the
venue share one RateLimiter (``shared_limiter``); each builder takes it, or the other's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from binance.client import Client

from oms.clock import Clock
from oms.config import BinanceSettings, Settings
from oms.errors import ConfigError
from oms.market.base import MarketData
from oms.market.binance_feed import BinanceMarketData, MarketStreamTransport, ThreadedMarketStream
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_keys import ApiCredentials, check_key_permissions, load_credentials
from oms.venues.binance_limits import RateLimiter, default_limits
from oms.venues.binance_stream import StreamTransport

__all__ = [
    "build_binance_market",
    "build_binance_venue",
    "make_client",
    "point_client_at",
    "shared_limiter",
]

log = logging.getLogger(__name__)


def point_client_at(client: Any, base_url: str) -> None:
    """Send the client's spot (/api) and wallet (/sapi) requests to ``base_url``."""
    base = base_url.rstrip("/")
    client.API_URL = f"{base}/api"
    client.API_TESTNET_URL = f"{base}/api"
    client.MARGIN_API_URL = f"{base}/sapi"


def make_client(credentials: ApiCredentials, settings: BinanceSettings, *, testnet: bool) -> Client:
    """A python-binance Client (no network at construction), timeouts from settings."""
    key, secret = credentials.reveal()
    client = Client(key, secret, testnet=testnet, ping=False,
                    requests_params={"timeout": settings.request_timeout_s})
    if settings.rest_base_url:
        point_client_at(client, settings.rest_base_url)
    return client


def shared_limiter(settings: Settings, *built: object) -> RateLimiter:
    """The RateLimiter of the first of ``built`` (a feed or venue) that has one, else a new one
    with Binance's published limits (exchangeInfo replaces them when the venue starts)."""
    for part in built:
        limiter = getattr(part, "limiter", None)
        if isinstance(limiter, RateLimiter):
            return limiter
    return RateLimiter(margin=settings.binance.rate_limit_margin, limits=default_limits())


def _user_stream(credentials: ApiCredentials, testnet: bool) -> StreamTransport:
    # our WebSocket API client: python-binance's user socket is never re-subscribed after a
    # reconnect (oms.venues.binance_user_ws); the endpoints stay python-binance's
    from oms.venues.binance_user_ws import WsApiUserStream

    url = Client.WS_API_TESTNET_URL if testnet else Client.WS_API_URL.format("com")
    return WsApiUserStream(url, credentials)


def build_binance_venue(
    settings: Settings,
    gate: HaltGate,
    *,
    production_confirmed: bool,
    clock: Clock | None = None,
    market: MarketData | None = None,
    transport: StreamTransport | None = None,
    env: Mapping[str, str] | None = None,
    limiter: RateLimiter | None = None,
) -> BinanceVenue:
    """A started BinanceVenue for ``settings.venue`` ("binance-testnet" or "binance").

    Production needs ``production_confirmed`` (the CLI flag) or OMS_BINANCE__CONFIRM_PRODUCTION;
    its key must not allow withdrawals (ConfigError) and should be IP-restricted (warning).
    ``transport`` replaces the websocket user stream (tests); without one, the live stream is
    used unless ``settings.binance.use_user_stream`` is off (REST polling only). ``limiter``
    defaults to the ``market`` feed's, so that both count against the one IP.
    """
    if settings.venue not in ("binance-testnet", "binance"):
        raise ConfigError(f"venue {settings.venue!r} is not a Binance venue")
    bset = settings.binance
    testnet = settings.venue == "binance-testnet"
    if not testnet and not (production_confirmed or bset.confirm_production):
        raise ConfigError(
            "--venue binance trades REAL money: pass the explicit confirmation flag "
            "(or OMS_BINANCE__CONFIRM_PRODUCTION=true); the default live venue is binance-testnet")
    credentials = load_credentials(bset, testnet=testnet, env=env)
    client = make_client(credentials, bset, testnet=testnet)
    if transport is None and bset.use_user_stream and not bset.rest_base_url:
        transport = _user_stream(credentials, testnet)
    venue = BinanceVenue(gate, client, bset, symbols=settings.symbols, testnet=testnet,
                         clock=clock, market=market, transport=transport,
                         limiter=limiter or shared_limiter(settings, market))
    if not testnet:
        # the testnet has no wallet (sapi) endpoints; production keys are checked every start
        check_key_permissions(lambda: dict(venue.rest.call("get_account_api_permissions")))
        log.warning("PRODUCTION venue: orders trade real funds on binance.com")
    venue.start()
    log.info("%s venue started: symbols=%s time offset %d ms", venue.name,
             ",".join(venue.symbols), venue.time_offset_ms)
    return venue


def build_binance_market(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: MarketStreamTransport | None = None,
    limiter: RateLimiter | None = None,
) -> BinanceMarketData:
    """A started BinanceMarketData for ``settings.symbols`` (public data: no keys needed).

    Testnet venues read testnet market data (the book their orders meet). Without a
    ``transport`` the python-binance websockets are used unless ``use_market_stream`` is off or
    ``rest_base_url`` points elsewhere; REST fills in whenever the stream is quiet, under
    ``limiter`` (give it the venue's: ``shared_limiter``).
    """
    testnet = settings.venue != "binance"
    bset = settings.binance
    client = Client(None, None, testnet=testnet, ping=False,
                    requests_params={"timeout": bset.request_timeout_s})
    if bset.rest_base_url:
        point_client_at(client, bset.rest_base_url)
    if transport is None and bset.use_market_stream and not bset.rest_base_url:
        from binance import ThreadedWebsocketManager

        transport = ThreadedMarketStream(
            lambda loop: ThreadedWebsocketManager(testnet=testnet, loop=loop))
    feed = BinanceMarketData(client, settings.symbols, clock=clock, transport=transport,
                             limiter=limiter or shared_limiter(settings))
    feed.start()
    return feed

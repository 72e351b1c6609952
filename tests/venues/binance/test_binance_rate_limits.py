"""Rate limits: 429 back-off until Retry-After, 418 halts, local margin, headers read back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from binance_helpers import ENV, child, make_settings
from fake_binance_server import FakeBinance, Fault

from oms.clock import TestClock
from oms.errors import TradingHalted, VenueBanned, VenueUnavailable
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_venue
from oms.venues.binance_limits import BAN_DEFAULT_S, BAN_MAX_S, RateLimit, RateLimiter, VenueStatus
from oms.venues.binance_rest import weight_of


def test_429_sends_nothing_until_retry_after(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    server.faults.append(Fault("POST", "/api/v3/order", "429", retry_after=30))
    with pytest.raises(VenueUnavailable) as first:
        venue.submit(child(), clock.now())
    requests_after_429 = len(server.requests)

    clock.advance(timedelta(seconds=20))
    with pytest.raises(VenueUnavailable) as during:
        venue.submit(child(), clock.now())
    venue.poll(clock.now())  # housekeeping must not send either
    requests_during_back_off = len(server.requests)
    status_during = venue.status()
    clock.advance(timedelta(seconds=11))
    venue.submit(child(), clock.now())

    assert first.value.retry_after_s == 30
    assert during.value.retry_after_s == pytest.approx(10)
    assert requests_during_back_off == requests_after_429
    assert status_during is VenueStatus.BACKING_OFF
    assert server.count("POST", "/api/v3/order") == 2
    assert venue.status() is VenueStatus.OK


def test_418_halts_until_retry_after_then_cancels_and_queries_go_out(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, gate: HaltGate
) -> None:
    resting = child()
    venue.submit(resting, clock.now())
    server.faults.append(Fault("POST", "/api/v3/order", "418", retry_after=120))
    with pytest.raises(VenueBanned):
        venue.submit(child(), clock.now())
    requests_after_ban = len(server.requests)

    clock.advance(timedelta(seconds=60))
    with pytest.raises(VenueBanned):
        venue.query(resting.client_order_id)
    with pytest.raises(VenueBanned):
        venue._send(child(), clock.now())  # even past the gate, the venue refuses to send
    venue.cancel(resting.client_order_id, clock.now())  # held back (and retried later)
    venue.poll(clock.now())  # housekeeping must not send either
    status_during, text_during = venue.status(), venue.status_text()
    requests_during_ban = len(server.requests)
    clock.advance(timedelta(seconds=61))
    status_after = venue.status()
    report = venue.query(resting.client_order_id)
    venue.cancel(resting.client_order_id, clock.now())
    venue.poll(clock.now())
    with pytest.raises(TradingHalted):
        venue.submit(child(), clock.now())  # the gate waits for a person

    assert status_during is VenueStatus.BANNED
    assert "HALTED" in text_during and "418" in text_during and "60s left" in text_during
    assert requests_during_ban == requests_after_ban
    assert status_after is VenueStatus.OK
    assert report is not None
    assert server.count("DELETE", "/api/v3/order") == 1
    assert next(iter(server.orders.values()))["status"] == "CANCELED"
    assert gate.is_halted


def test_a_418_soon_after_a_ban_doubles_it(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    server.faults += [Fault("GET", "/api/v3/order", "418", retry_after=120),
                      Fault("GET", "/api/v3/order", "418", retry_after=120)]
    with pytest.raises(VenueBanned):
        venue.query("any-id")
    clock.advance(timedelta(seconds=121))
    with pytest.raises(VenueBanned):
        venue.query("any-id")  # the ban lifted; the next request is banned again at once

    clock.advance(timedelta(seconds=239))
    status_before_end = venue.status()
    clock.advance(timedelta(seconds=1))

    assert status_before_end is VenueStatus.BANNED
    assert venue.status() is VenueStatus.OK


def test_a_418_without_retry_after_bans_two_minutes() -> None:
    limiter = RateLimiter()

    until = limiter.ban("HTTP 418", 1000.0)
    again = limiter.ban("HTTP 418", 1130.0)  # within one ban length after it lifted: a repeat
    much_later = limiter.ban("HTTP 418", again + 3 * 86400)

    assert until == 1000.0 + BAN_DEFAULT_S
    assert again == 1130.0 + 2 * BAN_DEFAULT_S
    assert much_later == again + 3 * 86400 + BAN_DEFAULT_S


def test_repeated_bans_double_up_to_three_days() -> None:
    limiter = RateLimiter()
    epoch, lengths = 0.0, []

    for _ in range(14):
        until = limiter.ban("HTTP 418", epoch)
        lengths.append(until - epoch)
        epoch = until  # sent the moment the ban lifted

    assert lengths[:4] == [120, 240, 480, 960]
    assert max(lengths) == BAN_MAX_S and lengths[-1] == BAN_MAX_S


def test_a_late_answer_to_a_request_sent_before_the_ban_is_the_same_ban() -> None:
    limiter = RateLimiter()

    first = limiter.ban("HTTP 418", 1000.0, retry_after_s=300)
    same = limiter.ban("HTTP 418", 1001.0, retry_after_s=300, sent_at=999.5)

    assert same == 1301.0 and limiter.ban_length_s == 300.0 and first == 1300.0


def test_a_rejected_key_stays_until_a_person_clears_it(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, gate: HaltGate
) -> None:
    server.api_key = "another-key"  # the key was revoked at Binance
    with pytest.raises(VenueBanned):
        venue.query("any-id")
    requests_after = len(server.requests)

    clock.advance(timedelta(days=4))
    with pytest.raises(VenueBanned):
        venue.query("any-id")
    status_later, text_later = venue.status(), venue.status_text()
    venue.limiter.clear_ban()

    assert status_later is VenueStatus.BANNED and "API key rejected" in text_later
    assert len(server.requests) == requests_after
    assert gate.is_halted
    assert venue.status() is VenueStatus.OK


def test_local_weight_limit_is_kept_under_margin(server: FakeBinance, clock: TestClock) -> None:
    server.weight_limit = 100  # margin 80% -> 80 weight per minute for this venue
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, env=ENV)
    used_by_start = sum(lim.used for lim in venue.limiter.limits if lim.kind == "REQUEST_WEIGHT")
    sent = 0
    with pytest.raises(VenueUnavailable) as refused:
        for _ in range(200):
            venue.query("unknown-id")  # weight 4 x 2 symbols
            sent += 1

    assert used_by_start >= 21
    assert server._weight and max(server._weight.values()) <= 80
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s <= 60
    assert sent < 20


def test_usage_headers_are_read_back(venue: BinanceVenue, clock: TestClock) -> None:
    venue.submit(child(), clock.now())

    weight = next(lim for lim in venue.limiter.limits if lim.kind == "REQUEST_WEIGHT")
    orders = next(lim for lim in venue.limiter.limits if lim.interval == "SECOND")

    assert weight.header == "X-MBX-USED-WEIGHT-1M"
    assert weight.used >= 22  # time + exchangeInfo + order
    assert orders.used == 1


@pytest.mark.parametrize(("method", "params", "weight"), [
    ("get_order", {"symbol": "BTCUSDT", "origClientOrderId": "c1"}, 4),
    ("get_open_orders", {"symbol": "BTCUSDT"}, 6),
    ("get_open_orders", {}, 80),
    ("get_my_trades", {"symbol": "BTCUSDT"}, 20),
    ("get_my_trades", {"symbol": "BTCUSDT", "orderId": 7}, 5),
    ("cancel_order", {"symbol": "BTCUSDT", "origClientOrderId": "c1"}, 1),
    ("cancel_all_open_orders", {"symbol": "BTCUSDT"}, 1),
    ("create_order", {"symbol": "BTCUSDT"}, 1),
    ("get_account", {}, 20),
    ("get_exchange_info", {}, 20),
    ("get_order_book", {"symbol": "BTCUSDT"}, 5),
    ("get_order_book", {"symbol": "BTCUSDT", "limit": 100}, 5),
    ("get_order_book", {"symbol": "BTCUSDT", "limit": 101}, 25),
    ("get_order_book", {"symbol": "BTCUSDT", "limit": 500}, 25),
    ("get_order_book", {"symbol": "BTCUSDT", "limit": 1000}, 50),
    ("get_order_book", {"symbol": "BTCUSDT", "limit": 5000}, 250),
    ("get_orderbook_ticker", {"symbol": "BTCUSDT"}, 2),
    ("get_orderbook_ticker", {}, 4),
    ("get_klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": 1000}, 2),
    ("get_avg_price", {"symbol": "BTCUSDT"}, 2),
    ("get_symbol_ticker", {"symbol": "BTCUSDT"}, 2),
    ("get_server_time", {}, 1),
    ("ping", {}, 1),
])
def test_weight_follows_the_method_and_its_params(
    method: str, params: dict[str, object], weight: int
) -> None:
    assert weight_of(method, params) == weight


def test_all_open_orders_cost_80_without_the_caller_saying_so(
    venue: BinanceVenue, clock: TestClock
) -> None:
    weight = next(lim for lim in venue.limiter.limits if lim.kind == "REQUEST_WEIGHT")
    before = weight.used

    venue.rest.call("get_open_orders")

    assert weight.used - before == 80


def test_a_priority_request_may_use_the_whole_limit_but_not_a_back_off() -> None:
    limiter = RateLimiter(margin=0.8, limits=[RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)])
    limiter.acquire(0.0, weight=80)
    with pytest.raises(VenueUnavailable):
        limiter.acquire(1.0, weight=1)

    limiter.acquire(2.0, weight=20, priority=True)  # 100 of 100
    used_at_the_limit = limiter.limits[0].used
    with pytest.raises(VenueUnavailable):
        limiter.acquire(3.0, weight=1, priority=True)  # never past the limit itself
    limiter.back_off(61.0, 30)  # a new window, but a 429 runs
    with pytest.raises(VenueUnavailable):
        limiter.acquire(62.0, weight=1, priority=True)
    limiter.ban("HTTP 418", 100.0)
    with pytest.raises(VenueBanned):
        limiter.acquire(101.0, weight=1, priority=True)

    assert used_at_the_limit == 100


def test_a_cancel_goes_out_when_new_requests_stop_at_the_margin(
    server: FakeBinance, clock: TestClock
) -> None:
    server.weight_limit = 100  # margin 80% -> others stop at 80, a cancel may use up to 100
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, env=ENV)
    resting = child()
    venue.submit(resting, clock.now())
    with pytest.raises(VenueUnavailable):
        for _ in range(50):
            venue.query("unknown-id")

    venue.cancel(resting.client_order_id, clock.now())

    assert server.count("DELETE", "/api/v3/order") == 1
    assert next(iter(server.orders.values()))["status"] == "CANCELED"

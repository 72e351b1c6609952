"""Smart order router benchmark: the cost of one routing decision.

``measure()`` returns, in microseconds per ``SmartOrderRouter.route`` call with 3 venues of 10
book levels each (different fees and latencies, seeded random books), the median over batches:
- ``routing_split_us``: a marketable buy several levels deep (the water-fill splits it);
- ``routing_single_us``: a marketable buy inside the best level (one venue);
- ``routing_passive_us``: a resting buy (one venue by maker fee and fill probability).
The budget is 50 us per decision.
"""

from __future__ import annotations

import random
import statistics
import time

from oms.model.enums import Side
from oms.routing import RouteRequest, SmartOrderRouter, VenueState

__all__ = ["measure"]

_MID = 60_000.0
_NAMES = ("binance", "okx", "bybit")


def _venues(rng: random.Random) -> list[VenueState]:
    venues = []
    for i, name in enumerate(_NAMES):
        half_spread = _MID * rng.uniform(0.5, 1.5) * 1e-5
        asks, bids, offset = [], [], half_spread
        for _ in range(10):
            size = rng.uniform(0.05, 0.4)
            asks.append((_MID + offset, size))
            bids.append((_MID - offset, size))
            offset += _MID * rng.uniform(1.0, 4.0) * 1e-5
        venues.append(VenueState(name, bids[0][0], asks[0][0], asks, bids,
                                 maker_fee_bps=1.0 + i / 2, taker_fee_bps=4.0 + i / 2,
                                 latency_ms=20.0 + 30.0 * i, min_notional=5.0,
                                 step_size=0.00001))
    return venues


def _median_us(request: RouteRequest, books: list[list[VenueState]], batches: int) -> float:
    router = SmartOrderRouter()
    for venues in books:  # warm up: the first pass pays for cold caches
        router.route(request, venues)
    per_batch = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for venues in books:
            router.route(request, venues)
        per_batch.append((time.perf_counter() - t0) / len(books) * 1e6)
    return statistics.median(per_batch)


def measure(quick: bool = False) -> dict[str, float]:
    """Median microseconds per decision over batches of 200 decisions on seeded books."""
    rng = random.Random(7)
    books = [_venues(rng) for _ in range(200)]
    batches = 5 if quick else 50
    sigma = 8.3e-4 / 60**0.5  # BTCUSDT's 1-minute volatility per sqrt(second)
    split = RouteRequest(Side.BUY, 2.0, True, _MID, sigma)
    single = RouteRequest(Side.BUY, 0.01, True, _MID, sigma)
    passive = RouteRequest(Side.BUY, 0.5, False, _MID, sigma)
    return {
        "routing_split_us": round(_median_us(split, books, batches), 2),
        "routing_single_us": round(_median_us(single, books, batches), 2),
        "routing_passive_us": round(_median_us(passive, books, batches), 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))

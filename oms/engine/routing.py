"""VenueRouting: the engine's side of smart order routing (``oms.routing`` decides).

For each child intent of a tick, before its row exists: a snapshot of every venue of the
``VenueSet`` (its book for the symbol, fees, latency, health, the notional its limits and its free
balance still allow), the router's decision, and the pieces to create, each a child intent for one
venue with its quantity rounded to the set's step. The first piece keeps the algorithm's intent id;
the others get ``<intent id>~<venue>``, market and IOC pieces that finish at once, which the
algorithm counts as working and filled quantity without owning them. Each piece's child gets a
``ChildRouted`` audit row with the whole decision (venues considered, their expected costs, the
choice), which the child's detail shows.

Exposure per venue is the notional held there (from the fills, which name their venue) plus what its
working children may still add; the limits are ``RoutingSettings.max_venue_notional_usd`` (per
venue) and ``max_symbol_venue_notional_usd`` (per symbol on a venue).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from oms.algos.base import ChildIntent
from oms.config import RoutingSettings
from oms.engine.book import OrderBook
from oms.engine.quotes import QuoteBoard
from oms.market.calibration import CALIBRATION
from oms.model import Fill, OrderType, ParentOrder, Side, TimeInForce
from oms.model.filters import round_to_step
from oms.routing import RouteRequest, RoutingDecision, SmartOrderRouter, VenueState
from oms.snapshot import VenueView
from oms.venues.base import Venue
from oms.venues.venue_set import VenueSet, VenueTerms

__all__ = ["Book", "BookLevels", "RoutedPiece", "VenueRouting", "decision_payload", "routing_for",
           "sigma_per_sqrt_second"]

_ZERO = Decimal(0)
DEFAULT_SIGMA_1M = 0.001  # a symbol not calibrated
BOOK_DEPTH = 10  # levels per side the router is shown at least (more when the child needs them)


Book = tuple[float, float, list[tuple[float, float]], list[tuple[float, float]]]


@runtime_checkable
class BookLevels(Protocol):
    """A venue that can show its book: (bid, ask, asks a buy walks, bids a sell walks), or
    None when it has no price; a venue without it is shown the reference quote, deep."""

    def touch_book(self, symbol: str, t: float, depth: int,
                   quantity: float = 0.0) -> Book | None: ...


@dataclass(frozen=True, slots=True)
class RoutedPiece:
    """One child to create: ``intent`` (quantity and id of this piece) for ``venue``."""

    venue: str
    intent: ChildIntent
    decision: RoutingDecision


class VenueRouting:
    """Splits the tick's intents across the set's venues (module docstring)."""

    def __init__(self, *, venues: VenueSet, router: SmartOrderRouter,
                 quotes: QuoteBoard, book: OrderBook,
                 sigma_per_sqrt_s: Callable[[str], float],
                 max_venue_notional: Mapping[str, Decimal] | None = None,
                 max_symbol_venue_notional: Mapping[str, Decimal] | None = None,
                 quote_asset: str = "USDT") -> None:
        self.venues = venues
        self.router = router
        self.quotes = quotes
        self.book = book
        self.sigma = sigma_per_sqrt_s
        self.max_venue = dict(max_venue_notional or {})
        self.max_symbol_venue = dict(max_symbol_venue_notional or {})
        self.quote_asset = quote_asset
        self._held: dict[tuple[str, str], Decimal] = {}  # (venue, symbol) -> base quantity
        self._flow: dict[str, Decimal] = {}  # venue -> filled notional (stored fills included)

    # -- exposure ------------------------------------------------------------------------
    def on_fill(self, fill: Fill) -> None:
        """Fills move the quantity held at their venue."""
        key = (fill.venue, fill.symbol)
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        self._held[key] = self._held.get(key, _ZERO) + signed
        self._flow[fill.venue] = self._flow.get(fill.venue, _ZERO) + fill.notional

    def rebuild(self, fills: Iterable[Fill]) -> None:
        """At start: what each venue holds, from the stored fills."""
        self._held.clear()
        self._flow.clear()
        for fill in fills:
            self.on_fill(fill)

    def exposure(self, venue: str, symbol: str | None = None) -> Decimal:
        """Gross notional at ``venue`` (of ``symbol``): held, plus working children."""
        total = _ZERO
        for (name, sym), quantity in self._held.items():
            if name == venue and (symbol is None or sym == symbol):
                mid = self.quotes.mid(sym) or _ZERO
                total += abs(quantity) * mid
        for child in self.book.open_children.values():
            if child.venue == venue and (symbol is None or child.symbol == symbol):
                mid = self.quotes.mid(child.symbol) or _ZERO
                total += (child.quantity - child.filled_quantity) * mid
        return total

    def headroom(self, venue: str, symbol: str, side: Side) -> float:
        """Notional the venue may still take: its limits (inf without), and what its account
        holds free (a buy its quote asset, a sell the base asset at the mid)."""
        room = math.inf
        limit = self.max_venue.get(venue)
        if limit is not None:
            room = min(room, float(limit - self.exposure(venue)))
        limit = self.max_symbol_venue.get(venue)
        if limit is not None:
            room = min(room, float(limit - self.exposure(venue, symbol)))
        at = self.venues.venues[venue]
        try:
            balances = at.balances()
        except NotImplementedError:  # a venue that does not say: its limits only
            return max(room, 0.0)
        base, quote = at.filters(symbol).assets()
        if side is Side.BUY:
            free = balances.get(quote)
            room = min(room, float(free.free) if free is not None else 0.0)
        else:
            free = balances.get(base)
            mid = self.quotes.mid(symbol) or _ZERO
            room = min(room, float(free.free * mid) if free is not None else 0.0)
        return max(room, 0.0)

    def views(self, now: datetime) -> tuple[VenueView, ...]:
        """The dashboard's venue panel: health, quote balance, exposure vs limit, flow share."""
        total = sum(self._flow.values(), _ZERO)
        views = []
        for name, venue in self.venues.venues.items():
            try:
                quote = venue.balances().get(self.quote_asset)
            except NotImplementedError:
                quote = None
            health = self.venues.health[name]
            healthy = health.healthy(now)
            flow = self._flow.get(name, _ZERO)
            views.append(VenueView(
                name=name, healthy=healthy,
                status=venue.status_text() if healthy else f"UNHEALTHY: {health.reason}",
                quote_free=quote.free if quote is not None else _ZERO,
                quote_total=quote.total if quote is not None else _ZERO,
                exposure_usd=self.exposure(name), limit_usd=self.max_venue.get(name),
                filled_notional=flow, share=float(flow / total) if total else 0.0))
        return tuple(views)

    # -- routing -------------------------------------------------------------------------
    def _states(self, symbol: str, side: Side, quantity: float,
                now: datetime) -> list[VenueState]:
        t = now.timestamp()
        quote = self.quotes.quote(symbol)
        states = []
        for name, venue in self.venues.venues.items():
            terms: VenueTerms = self.venues.terms[name]
            rules = venue.filters(symbol)
            book = venue.touch_book(symbol, t, BOOK_DEPTH, quantity) if isinstance(
                venue, BookLevels) else None
            if book is None:
                if quote is None:
                    continue
                bid, ask = float(quote.bid), float(quote.ask)
                asks, bids = [(ask, math.inf)], [(bid, math.inf)]
            else:
                bid, ask, asks, bids = book
            health = self.venues.health[name]
            states.append(VenueState(
                name=name, bid=bid, ask=ask, asks=asks, bids=bids,
                maker_fee_bps=terms.maker_fee_bps, taker_fee_bps=terms.taker_fee_bps,
                latency_ms=terms.latency_ms,
                passive_fill_probability=terms.passive_fill_probability,
                min_notional=float(rules.min_notional), step_size=float(rules.step_size),
                healthy=health.healthy(now), health_reason=health.reason,
                headroom_usd=self.headroom(name, symbol, side)))
        return states

    def route(self, parent: ParentOrder, intent: ChildIntent, now: datetime
              ) -> tuple[list[RoutedPiece], RoutingDecision]:
        """The pieces of ``intent`` (empty when no venue may take it; the decision says why)."""
        mid = self.quotes.mid(parent.symbol)
        quote = self.quotes.quote(parent.symbol)
        request = RouteRequest(
            side=parent.side, quantity=float(intent.quantity),
            marketable=_marketable(intent, parent.side, quote.bid if quote else None,
                                   quote.ask if quote else None),
            reference_mid=float(mid) if mid is not None else math.nan,
            sigma_per_sqrt_s=self.sigma(parent.symbol),
            limit_price=float(intent.limit_price) if intent.limit_price is not None else None)
        decision = self.router.route(request, self._states(parent.symbol, parent.side,
                                                           request.quantity, now))
        step = self.venues.filters(parent.symbol).step_size
        quantities = _exact_split(intent.quantity, [q for _, q in decision.allocations], step,
                                  complete=decision.unallocated <= 0)
        pieces: list[RoutedPiece] = []
        for i, ((venue, _), quantity) in enumerate(zip(decision.allocations, quantities,
                                                       strict=True)):
            if quantity <= 0:
                continue
            piece_id = intent.intent_id if not pieces else f"{intent.intent_id}~{venue}"
            tag = intent.tag if i == 0 else f"{intent.tag}~{venue}"
            pieces.append(RoutedPiece(venue, replace(intent, quantity=quantity,
                                                     intent_id=piece_id, tag=tag), decision))
        return pieces, decision


def _marketable(intent: ChildIntent, side: Side, bid: Decimal | None,
                ask: Decimal | None) -> bool:
    """Market and IOC/FOK children walk the book; a limit that crosses the touch does too."""
    if intent.order_type is OrderType.MARKET or intent.time_in_force is not TimeInForce.GTC:
        return True
    price = intent.limit_price
    if price is None:
        return True
    if side is Side.BUY:
        return ask is not None and price >= ask
    return bid is not None and price <= bid


def _exact_split(total: Decimal, shares: list[float], step: Decimal,
                 complete: bool) -> list[Decimal]:
    """``shares`` on ``step`` as Decimals; when the router allocated all of ``total``
    (``complete``) the rounding left over goes to the largest piece, so they sum to it exactly."""
    if not shares:
        return []
    pieces = [min(round_to_step(Decimal(repr(share)), step), total) for share in shares]
    if complete:
        largest = max(range(len(pieces)), key=pieces.__getitem__)
        pieces[largest] += total - sum(pieces, _ZERO)
    return pieces


def decision_payload(decision: RoutingDecision, venue: str) -> dict[str, Any]:
    """The ``ChildRouted`` audit payload of one piece."""
    return {"venue": venue, **decision.as_dict()}


def sigma_per_sqrt_second(symbol: str) -> float:
    """The symbol's calibrated volatility per sqrt(second) (latency risk; a default when the
    symbol is not calibrated)."""
    sigma_1m = float(CALIBRATION.get(symbol, {}).get("sigma_1m", DEFAULT_SIGMA_1M))
    return sigma_1m / math.sqrt(60.0)


def routing_for(venue: Venue, settings: RoutingSettings, *, quotes: QuoteBoard,
                book: OrderBook, quote_asset: str = "USDT") -> VenueRouting | None:
    """The routing of a VenueSet (``OMS_ROUTING__*``); None for one venue."""
    if not isinstance(venue, VenueSet):
        return None
    fixed = None if settings.route == "sor" else settings.route
    return VenueRouting(venues=venue, router=SmartOrderRouter(fixed=fixed), quotes=quotes,
                        book=book, sigma_per_sqrt_s=sigma_per_sqrt_second,
                        max_venue_notional=settings.max_venue_notional_usd,
                        max_symbol_venue_notional=settings.max_symbol_venue_notional_usd,
                        quote_asset=quote_asset)

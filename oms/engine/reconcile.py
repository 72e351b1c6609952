"""Running reconciliation: what the OMS believes against what the venue holds, on an interval.

Every ``interval`` of engine time (market time on the paper venue, wall time on a live one;
``reconcile_interval`` reads the setting) ``Reconciler.run`` compares

- open orders: the venue's open orders (``Venue.open_orders``) with the book's open children.
  Open at the venue and not open in the book: UNKNOWN_ORDER. Working in the book (acknowledged,
  NEW or PARTIALLY_FILLED) and not open at the venue: MISSING_ORDER. A child with no
  acknowledgement yet, or waiting for a cancel, is never MISSING.
- balances: the venue's free + locked per asset with what the account implies
  (``oms.model.account_balances``), for the quote asset and the base assets of the traded
  symbols: a difference beyond the baseline by more than one step size (base assets) or
  ``QUOTE_EPSILON`` (the quote asset) is a BALANCE_MISMATCH. Fees are where the venue took them:
  a base-asset fee is already out of the position, a fee in a third asset (BNB) is subtracted
  from that asset when it is compared (a traded base asset); otherwise it is not compared.

When a difference is reported. Events in flight make one comparison lie: the venue filled an
order whose fill event has not been polled yet, a cancel landed whose confirmation is on its way.
Such a difference lasts at most one round trip to the venue; so a difference is reported only
when the same subject (order id, asset) differs in two consecutive runs, an interval apart (30 s
or 60 s by default: set the interval well above the venue's round trip). A run the venue could
not answer breaks the series. Balances are compared only when settled: when the venue's filled
quantity of every open child equals what the OMS has applied (a fill in flight moves the venue's
balances before the OMS's); an unsettled run skips the balances without breaking their series.

Baseline. The paper venue's account is the OMS's own at start (``oms.engine.recovery``): its
baseline is zero. A live account held whatever it held before the OMS started: the first settled
comparison is its baseline (what is reported are changes since then); adopting a balance
difference moves the baseline.

The reconciler reads the book, the account and the venue and returns what it found
(``ReconcileRun``); risk turns findings into trading-state decisions, and the operator's
actions go through ``oms.engine.reconcile_actions``. It never imports the core.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from oms.config import Settings
from oms.engine.book import BookView
from oms.errors import FieldError, OmsError, ValidationError
from oms.model import Account, ChildOrder, ChildState, account_balances
from oms.reconciliation import ACTIONS, MismatchKind, MismatchView, ReconcileView, ResolveAction
from oms.venues.base import Balance, OrderStatusReport, VenueOrder
from oms.venues.filters import SymbolFilters

__all__ = ["LIVE_INTERVAL_S", "PAPER_INTERVAL_S", "QUOTE_EPSILON", "Mismatch", "Observation",
           "ReconcileRun", "ReconcileVenue", "Reconciler", "reconcile_interval"]

log = logging.getLogger(__name__)

LIVE_INTERVAL_S = 30.0  # wall time, live venues
PAPER_INTERVAL_S = 60.0  # market time, the paper venue
QUOTE_EPSILON = Decimal("0.01")  # a quote-asset difference below this is rounding
# a venue may show an order it acknowledged to queries only after a while (Binance: memory, then
# a database): "the venue shows nothing" means missing only for an order older than this
VISIBILITY_GRACE = timedelta(seconds=30)

_ZERO = Decimal(0)
_NEVER = datetime.max.replace(tzinfo=UTC)
_AT_FIRST_TICK = datetime.min.replace(tzinfo=UTC)
_WORKING = (ChildState.NEW, ChildState.PARTIALLY_FILLED)
_ORDER_KINDS = frozenset({MismatchKind.UNKNOWN_ORDER, MismatchKind.MISSING_ORDER})

Key = tuple[MismatchKind, str]


def reconcile_interval(settings: Settings) -> timedelta | None:
    """The interval from ``settings.reconcile_interval_s`` (None: 60 s on the paper venue, 30 s
    live); None when reconciliation is disabled (0)."""
    seconds = settings.reconcile_interval_s
    if seconds is None:
        seconds = PAPER_INTERVAL_S if settings.venue == "paper" else LIVE_INTERVAL_S
    return timedelta(seconds=seconds) if seconds > 0 else None


class ReconcileVenue(Protocol):
    """What reconciliation asks of the venue."""

    def open_orders(self, now: datetime) -> list[VenueOrder]: ...
    def query(self, client_order_id: str) -> OrderStatusReport | None: ...
    def balances(self) -> dict[str, Balance]: ...


@dataclass(frozen=True, slots=True)
class Observation:
    """One difference seen by one comparison."""

    kind: MismatchKind
    subject: str  # client order id, or asset
    symbol: str | None
    oms_view: str
    venue_view: str
    difference: Decimal | None = None  # balances: venue minus OMS, beyond the baseline
    order: VenueOrder | None = None  # an unknown order, as the venue reports it

    @property
    def key(self) -> Key:
        """What identifies the difference across runs."""
        return self.kind, self.subject


@dataclass(slots=True)
class Mismatch:
    """A reported difference, open until an operator resolves it."""

    mismatch_id: str
    seen: Observation  # the latest observation
    first_seen: datetime
    reported_at: datetime
    last_seen: datetime
    present: bool = True

    def view(self) -> MismatchView:
        """The frozen view for the snapshot."""
        seen = self.seen
        return MismatchView(self.mismatch_id, seen.kind, seen.subject, seen.symbol,
                            seen.oms_view, seen.venue_view, seen.difference, self.first_seen,
                            self.reported_at, self.last_seen, self.present, ACTIONS[seen.kind])


@dataclass(frozen=True, slots=True)
class ReconcileRun:
    """What one run found: the mismatches reported now, the baseline it took (a live venue's
    first settled comparison), or why it could not compare."""

    reported: tuple[MismatchView, ...] = ()
    baseline_taken: dict[str, Decimal] | None = None
    error: str | None = None


class Reconciler:
    """Compares the OMS with the venue every interval; keeps the open mismatches."""

    def __init__(self, *, interval: timedelta | None, book: BookView, account: Account,
                 venue: ReconcileVenue, filters: Callable[[str], SymbolFilters],
                 quote_asset: str, symbols: Sequence[str], new_id: Callable[[], str],
                 zero_baseline: bool, quote_epsilon: Decimal = QUOTE_EPSILON) -> None:
        self.interval = interval
        #: the tick runs ``run`` once ``now >= due_at`` (the one comparison when not due)
        self.due_at = _NEVER if interval is None else _AT_FIRST_TICK
        self.book = book
        self.account = account
        self.venue = venue
        self.filters = filters
        self.quote_asset = quote_asset
        self.symbols = list(symbols)
        self.quote_epsilon = quote_epsilon
        self._new_id = new_id
        self._baseline: dict[str, Decimal] | None = {} if zero_baseline else None
        self._tolerances: dict[str, Decimal] | None = None
        self._armed = False
        self._pending: dict[Key, tuple[Observation, datetime]] = {}
        self._open: dict[Key, Mismatch] = {}
        self._ignored: dict[Key, Decimal | None] = {}
        self._orders_supported = True
        self._balances_supported = True
        self.runs = 0
        self.last_run_at: datetime | None = None
        self.balances_checked_at: datetime | None = None
        self.last_error: str | None = None
        self._view: ReconcileView | None = None

    # -- the run ------------------------------------------------------------------------------

    def run(self, now: datetime) -> ReconcileRun:
        """Compare now and schedule the next run; the first call (the first tick) only starts
        the interval, so what the start left in flight has landed by the first comparison."""
        if self.interval is None:
            return ReconcileRun()
        self.due_at = now + self.interval
        self._view = None
        if not self._armed:
            self._armed = True
            return ReconcileRun()
        self.runs += 1
        self.last_run_at = now
        baseline_taken: dict[str, Decimal] | None = None
        checked: set[MismatchKind] = set()
        try:
            found, settled = self._compare_orders(now)
            if self._orders_supported:
                checked |= _ORDER_KINDS
            if settled and self._balances_supported:
                balances = self._compare_balances(now)
                if balances is not None:
                    differences, baseline_taken = balances
                    found.extend(differences)
                    checked.add(MismatchKind.BALANCE)
        except OmsError as exc:  # the venue could not answer: no conclusion from this run
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._pending.clear()
            log.warning("reconciliation at %s skipped: %s", now.isoformat(), self.last_error)
            return ReconcileRun(error=self.last_error)
        self.last_error = None
        reported = self._confirm(found, checked, now)
        return ReconcileRun(tuple(m.view() for m in reported), baseline_taken)

    def _compare_orders(self, now: datetime) -> tuple[list[Observation], bool]:
        """Order differences, and whether every open child's fills have reached the OMS."""
        children = self.book.open_children
        try:
            at_venue: dict[str, VenueOrder] | None = {
                o.client_order_id: o for o in self.venue.open_orders(now)}
        except NotImplementedError:
            self._orders_supported, at_venue = False, None
        found: list[Observation] = []
        settled = True
        for cid, child in children.items():
            if child.sent_at is None and child.acked_at is None:
                continue  # never left the process
            order = at_venue.get(cid) if at_venue is not None else None
            if order is not None:
                settled = settled and order.filled_quantity == child.filled_quantity
                continue
            report = self.venue.query(cid)
            venue_filled = report.filled_quantity if report is not None else _ZERO
            settled = settled and venue_filled == child.filled_quantity
            if at_venue is None or (report is not None and not report.state.is_terminal):
                continue  # open at the venue after all (it arrived between the two requests)
            if report is None and child.acked_at is not None and \
                    now - child.acked_at < VISIBILITY_GRACE:
                continue  # acknowledged moments ago: not visible to queries yet
            key = (MismatchKind.MISSING_ORDER, cid)
            if child.acked_at is not None and (child.state in _WORKING or key in self._open):
                found.append(Observation(MismatchKind.MISSING_ORDER, cid, child.symbol,
                                         _child_text(child), _report_text(report)))
        for cid, order in (at_venue or {}).items():
            if cid not in children:
                found.append(Observation(MismatchKind.UNKNOWN_ORDER, cid, order.symbol,
                                         "not known as open", _order_text(order), order=order))
        return found, settled

    def _compare_balances(
            self, now: datetime) -> tuple[list[Observation], dict[str, Decimal] | None] | None:
        """Balance differences beyond the baseline (a live venue's first comparison takes the
        baseline instead); None if the venue does not report balances."""
        try:
            held = self.venue.balances()
        except NotImplementedError:
            self._balances_supported = False
            return None
        tolerances = self._asset_tolerances()
        believed = account_balances(self.account, self.quote_asset,
                                    lambda symbol: self.filters(symbol).assets())
        for asset, spent in self.account.other_asset_fees.items():
            if asset in tolerances or asset in believed:  # BNB fees when BNB is also traded
                believed[asset] = believed.get(asset, _ZERO) - spent
        self.balances_checked_at = now
        totals: dict[str, tuple[Decimal, Decimal]] = {}
        for asset in sorted(set(tolerances) | set(believed)):
            balance = held.get(asset)
            totals[asset] = (balance.total if balance is not None else _ZERO,
                             believed.get(asset, _ZERO))
        if self._baseline is None:
            self._baseline = {asset: venue - oms for asset, (venue, oms) in totals.items()}
            return [], dict(self._baseline)
        found: list[Observation] = []
        for asset, (venue_total, oms_total) in totals.items():
            base = self._baseline.get(asset, _ZERO)
            difference = venue_total - oms_total - base
            if abs(difference) <= tolerances.get(asset, self.quote_epsilon):
                continue
            believed_text = f"{_fmt(oms_total + base)} {asset}"
            if base:
                believed_text += f" (account {_fmt(oms_total)} + baseline {_fmt(base)})"
            found.append(Observation(MismatchKind.BALANCE, asset, None, believed_text,
                                     f"{_fmt(venue_total)} {asset}", difference))
        return found, None

    def _asset_tolerances(self) -> dict[str, Decimal]:
        """Per asset the difference that is rounding: a step size of its symbols, or the
        quote epsilon."""
        if self._tolerances is None:
            tolerances = {self.quote_asset: self.quote_epsilon}
            for symbol in self.symbols:
                flt = self.filters(symbol)
                base, quote = flt.assets()
                tolerances[base] = max(tolerances.get(base, _ZERO), flt.step_size)
                tolerances.setdefault(quote, self.quote_epsilon)
            self._tolerances = tolerances
        return self._tolerances

    def _confirm(self, found: Iterable[Observation], checked: set[MismatchKind],
                 now: datetime) -> list[Mismatch]:
        """Report what differed in this run and the previous one; forget what no longer does."""
        pending = {k: v for k, v in self._pending.items() if k[0] not in checked}
        seen: set[Key] = set()
        reported: list[Mismatch] = []
        for observation in found:
            key = observation.key
            seen.add(key)
            current = self._open.get(key)
            if current is not None:
                current.seen, current.last_seen, current.present = observation, now, True
                continue
            if self._suppressed(observation):
                continue
            earlier = self._pending.get(key)
            if earlier is None:
                pending[key] = (observation, now)
                continue
            self._ignored.pop(key, None)
            mismatch = Mismatch(self._new_id(), observation, earlier[1], now, now)
            self._open[key] = mismatch
            reported.append(mismatch)
        for key, mismatch in self._open.items():
            if key[0] in checked and key not in seen:
                mismatch.present = False
        for key in [k for k in self._ignored if k[0] in checked and k not in seen]:
            del self._ignored[key]  # gone: if it comes back it is new
        self._pending = pending
        return reported

    def _suppressed(self, observation: Observation) -> bool:
        """An ignored difference seen again unchanged (a balance within its tolerance)."""
        key = observation.key
        if key not in self._ignored:
            return False
        ignored = self._ignored[key]
        if ignored is None or observation.difference is None:
            return True
        tolerance = self._asset_tolerances().get(observation.subject, self.quote_epsilon)
        return abs(observation.difference - ignored) <= tolerance

    # -- resolution (the engine thread, from a ResolveMismatch command) -----------------------

    def open_mismatch(self, mismatch_id: str) -> Mismatch:
        """The open mismatch ``mismatch_id``; ValidationError naming the field otherwise."""
        for mismatch in self._open.values():
            if mismatch.mismatch_id == mismatch_id:
                return mismatch
        raise ValidationError(FieldError(
            "mismatch_id", f"no open reconciliation mismatch {mismatch_id!r:.80} (resolved "
                           "already, or never reported)"))

    def close(self, mismatch: Mismatch, action: ResolveAction) -> None:
        """The mismatch is resolved; an ignored difference is not reported again while it
        lasts unchanged. Any other comes back only after two more runs."""
        key = mismatch.seen.key
        self._open.pop(key, None)
        self._pending.pop(key, None)
        if action is ResolveAction.IGNORE:
            self._ignored[key] = mismatch.seen.difference
        self._view = None

    def adopt_balance(self, mismatch: Mismatch) -> tuple[Decimal, Decimal]:
        """The venue's balance of the mismatch's asset becomes the expected one: the baseline
        moves by the difference; returns (baseline before, baseline after)."""
        baseline = self._baseline if self._baseline is not None else {}
        asset = mismatch.seen.subject
        before = baseline.get(asset, _ZERO)
        after = before + (mismatch.seen.difference or _ZERO)
        baseline[asset] = after
        self._baseline = baseline
        self._view = None
        return before, after

    def blockers(self) -> list[str]:
        """Open mismatches, which block a resume until resolved."""
        return [f"reconciliation {m.mismatch_id} ({m.seen.kind.value} {m.seen.subject})"
                for m in self._open.values()]

    # -- read-out -------------------------------------------------------------------------------

    def view(self) -> ReconcileView:
        """The state for the snapshot (rebuilt only after a run or a resolution)."""
        if self._view is None:
            interval = self.interval
            self._view = ReconcileView(
                enabled=interval is not None,
                interval_s=interval.total_seconds() if interval is not None else 0.0,
                last_run_at=self.last_run_at,
                next_run_at=self.due_at if self._armed and interval is not None else None,
                runs=self.runs,
                mismatches=tuple(m.view() for m in sorted(self._open.values(),
                                                          key=lambda m: m.reported_at)),
                pending=len(self._pending), balances_checked_at=self.balances_checked_at,
                baseline={a: v for a, v in (self._baseline or {}).items() if v},
                last_error=self.last_error)
        return self._view


def _fmt(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros ("100000", "0.5")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _child_text(child: ChildOrder) -> str:
    price = f" @ {_fmt(child.limit_price)}" if child.limit_price is not None else ""
    return (f"{child.state.value}: {child.side.value} {_fmt(child.quantity)} {child.symbol} "
            f"{child.order_type.value}{price}, filled {_fmt(child.filled_quantity)}")


def _order_text(order: VenueOrder) -> str:
    price = f" @ {_fmt(order.limit_price)}" if order.limit_price is not None else ""
    return (f"open: {order.side.value} {_fmt(order.quantity)} {order.symbol} "
            f"{order.order_type.value}{price} {order.time_in_force.value}, filled "
            f"{_fmt(order.filled_quantity)}")


def _report_text(report: OrderStatusReport | None) -> str:
    if report is None:
        return "not open (unknown to the venue)"
    return f"not open ({report.state.value}, filled {_fmt(report.filled_quantity)})"

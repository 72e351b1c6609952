"""OrderBook: the one owner of the engine's order state.

Parents that have not been retired, their algorithms, the children that may still fill (with the
mid each was created at), the per-parent working index, the sessions and their parents, and the
intents deferred to the next dispatch. Only this class adds, closes, retires or adopts them; the
engine's parts read it through ``BookView``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from oms.algos.base import ExecutionAlgo, Intent
from oms.model import ChildOrder, ChildState, Fill, ParentOrder, Side
from oms.snapshot import ParentView, parent_view

__all__ = ["AWAIT_VENUE", "BookView", "OrderBook", "Pending"]

_ZERO = Decimal(0)
AWAIT_VENUE = timedelta(seconds=5)  # a cancel or a send the venue has not settled this long
Pending = tuple[ParentOrder, Intent]


class BookView(Protocol):
    """Read-only view of the order state (what the snapshot, risk and planning read)."""

    @property
    def parents(self) -> Mapping[str, ParentOrder]: ...
    @property
    def open_children(self) -> Mapping[str, ChildOrder]: ...
    @property
    def targets(self) -> Mapping[str, Decimal]: ...
    @property
    def recent_fills(self) -> Iterable[Fill]: ...
    @property
    def finished(self) -> Iterable[ParentView]: ...

    def working_count(self, parent_id: str) -> int: ...
    def pending(self, symbol: str, side: Side) -> Decimal: ...
    def awaiting_venue(self, now: datetime) -> tuple[int, int]: ...


class OrderBook:
    """Parents, children, algorithms and sessions of one engine (engine thread only)."""

    def __init__(self, *, history: int = 100) -> None:
        self._parents: dict[str, ParentOrder] = {}
        self._algos: dict[str, ExecutionAlgo] = {}
        self._open: dict[str, ChildOrder] = {}
        self._working: dict[str, dict[str, ChildOrder]] = {}
        self._ref_mid: dict[str, Decimal] = {}
        self._sessions: dict[str, set[str]] = {}
        self._targets: dict[str, Decimal] = {}
        self._deferred: list[Pending] = []
        self._recent_fills: deque[Fill] = deque(maxlen=history)
        self._finished: deque[ParentView] = deque(maxlen=history)

    # -- reads ------------------------------------------------------------------------------

    @property
    def parents(self) -> Mapping[str, ParentOrder]:
        """Parents not yet retired (working, or ended with children still open)."""
        return self._parents

    @property
    def open_children(self) -> Mapping[str, ChildOrder]:
        """Children that may still fill, by client order id."""
        return self._open

    @property
    def targets(self) -> Mapping[str, Decimal]:
        """The latest USD target per symbol."""
        return self._targets

    @property
    def recent_fills(self) -> Iterable[Fill]:
        """The newest fills, oldest first."""
        return self._recent_fills

    @property
    def finished(self) -> Iterable[ParentView]:
        """The newest retired parents, oldest first."""
        return self._finished

    def algo(self, parent_id: str) -> ExecutionAlgo | None:
        """The algorithm of a parent that is not retired."""
        return self._algos.get(parent_id)

    def parent(self, parent_id: str) -> ParentOrder | None:
        """A parent that is not retired."""
        return self._parents.get(parent_id)

    def working_children(self, parent_id: str) -> list[ChildOrder]:
        """The open children of one parent."""
        return list(self._working.get(parent_id, {}).values())

    def working_count(self, parent_id: str) -> int:
        """How many children of one parent are open."""
        return len(self._working.get(parent_id, ()))

    def awaiting_venue(self, now: datetime) -> tuple[int, int]:
        """(cancels not confirmed, sends of unknown outcome): children that have waited for
        the venue's word longer than AWAIT_VENUE since their last change."""
        cancels = unknown = 0
        for child in self._open.values():
            state = child.state
            if state is ChildState.PENDING_CANCEL:
                late = child.updated_at is not None and now - child.updated_at > AWAIT_VENUE
                cancels += late
            elif state is ChildState.PENDING_NEW and child.sent_at is not None:
                unknown += now - child.sent_at > AWAIT_VENUE
        return cancels, unknown

    def ref_mid(self, client_order_id: str) -> Decimal | None:
        """The mid when an open child was created."""
        return self._ref_mid.get(client_order_id)

    def sizes(self) -> dict[str, int]:
        """How many entries each index holds (the soak benchmark watches them stay bounded)."""
        return {"parents": len(self._parents), "algos": len(self._algos),
                "open_children": len(self._open), "working": len(self._working),
                "working_children": sum(len(c) for c in self._working.values()),
                "ref_mids": len(self._ref_mid), "sessions": len(self._sessions),
                "deferred": len(self._deferred), "recent_fills": len(self._recent_fills),
                "finished": len(self._finished)}

    def pending(self, symbol: str, side: Side) -> Decimal:
        """What may still trade on one side of ``symbol``: the unfilled rest of its working
        parents plus the open children of parents that already ended."""
        total = _ZERO
        working: set[str] = set()
        for parent in self._parents.values():
            if parent.symbol == symbol and parent.side is side and not parent.state.is_terminal:
                total += parent.remaining
                working.add(parent.parent_id)
        for child in self._open.values():
            if child.symbol == symbol and child.side is side and child.parent_id not in working:
                total += child.remaining
        return total

    # -- writes -----------------------------------------------------------------------------

    def add_parent(self, parent: ParentOrder, algo: ExecutionAlgo) -> None:
        """A new (or recovered) parent and its algorithm."""
        self._parents[parent.parent_id] = parent
        self._algos[parent.parent_id] = algo
        self._working.setdefault(parent.parent_id, {})
        self._sessions.setdefault(parent.session_id, set()).add(parent.parent_id)

    def add_child(self, child: ChildOrder, ref_mid: Decimal | None) -> None:
        """A new child of a parent in the book (or one recovered from the database)."""
        parent = self._parents[child.parent_id]
        parent.child_ids.append(child.client_order_id)
        self._open[child.client_order_id] = child
        self._working[child.parent_id][child.client_order_id] = child
        if ref_mid is not None:
            self._ref_mid[child.client_order_id] = ref_mid

    def close_child(self, child: ChildOrder) -> None:
        """A child reached a terminal state: it leaves the open indexes."""
        self._open.pop(child.client_order_id, None)
        self._ref_mid.pop(child.client_order_id, None)
        self._working.get(child.parent_id, {}).pop(child.client_order_id, None)

    def discard_child(self, child: ChildOrder) -> None:
        """A child that never left the process (its row was not committed) is forgotten."""
        self.close_child(child)
        parent = self._parents.get(child.parent_id)
        if parent is not None and child.client_order_id in parent.child_ids:
            parent.child_ids.remove(child.client_order_id)

    def record_fill(self, fill: Fill) -> None:
        """Remember a fill for the live panels."""
        self._recent_fills.append(fill)

    def set_targets(self, targets: Mapping[str, Decimal]) -> None:
        """Record the desk's latest USD targets."""
        self._targets.update(targets)

    def defer(self, parent: ParentOrder, intents: Iterable[Intent]) -> None:
        """Intents to dispatch with the next batch."""
        self._deferred.extend((parent, intent) for intent in intents)

    def take_deferred(self) -> list[Pending]:
        """The deferred intents, emptied."""
        deferred, self._deferred = self._deferred, []
        return deferred

    def retire(self, parent: ParentOrder, now: datetime) -> bool:
        """Remove an ended parent with no open child; True when its session has no parent left."""
        del self._parents[parent.parent_id]
        self._algos.pop(parent.parent_id, None)
        self._working.pop(parent.parent_id, None)
        self._finished.append(parent_view(parent, now, 0, None))
        members = self._sessions.get(parent.session_id)
        if members is None:
            return False
        members.discard(parent.parent_id)
        if members:
            return False
        del self._sessions[parent.session_id]
        return True


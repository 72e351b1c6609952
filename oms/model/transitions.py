"""Explicit state-transition tables for child and parent orders."""

from __future__ import annotations

from oms.errors import InvalidTransition
from oms.model.enums import ChildState, ParentState

__all__ = ["CHILD_TRANSITIONS", "PARENT_TRANSITIONS", "check_child", "check_parent"]

_C = ChildState
CHILD_TRANSITIONS: dict[ChildState, frozenset[ChildState]] = {
    _C.PENDING_NEW: frozenset({_C.NEW, _C.REJECTED, _C.PARTIALLY_FILLED, _C.FILLED, _C.CANCELED,
                               _C.EXPIRED, _C.PENDING_CANCEL}),
    _C.NEW: frozenset({_C.PARTIALLY_FILLED, _C.FILLED, _C.PENDING_CANCEL, _C.CANCELED, _C.EXPIRED,
                       _C.REJECTED}),
    _C.PARTIALLY_FILLED: frozenset({_C.PARTIALLY_FILLED, _C.FILLED, _C.PENDING_CANCEL, _C.CANCELED,
                                    _C.EXPIRED}),
    # a fill may arrive after the cancel request: real venues do that
    # the venue may also reject the order the cancel was chasing
    _C.PENDING_CANCEL: frozenset({_C.CANCELED, _C.PARTIALLY_FILLED, _C.FILLED, _C.EXPIRED,
                                  _C.NEW, _C.REJECTED}),
    _C.FILLED: frozenset(),
    _C.CANCELED: frozenset(),
    _C.REJECTED: frozenset(),
    _C.EXPIRED: frozenset(),
}

_P = ParentState
PARENT_TRANSITIONS: dict[ParentState, frozenset[ParentState]] = {
    _P.PENDING: frozenset({_P.WORKING, _P.CANCELED, _P.HALTED, _P.FAILED, _P.COMPLETED}),
    _P.WORKING: frozenset({_P.COMPLETED, _P.CANCELED, _P.HALTED, _P.FAILED}),
    _P.COMPLETED: frozenset(),
    _P.CANCELED: frozenset(),
    _P.HALTED: frozenset(),
    _P.FAILED: frozenset(),
}


def check_child(current: ChildState, target: ChildState, order_id: str) -> None:
    """Raise InvalidTransition unless ``current -> target`` is in the child table."""
    if target not in CHILD_TRANSITIONS[current]:
        raise InvalidTransition(f"child {order_id}: {current} -> {target} is not allowed")


def check_parent(current: ParentState, target: ParentState, order_id: str) -> None:
    """Raise InvalidTransition unless ``current -> target`` is in the parent table."""
    if target not in PARENT_TRANSITIONS[current]:
        raise InvalidTransition(f"parent {order_id}: {current} -> {target} is not allowed")

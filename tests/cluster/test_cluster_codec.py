"""Commands and replies as data: every command kind round-trips exactly through its JSON
payload (hypothesis), and a reply re-raises the same OMS error, field errors included."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms import commands as c
from oms import errors
from oms.cluster.codec import (
    COMMAND_KINDS,
    decode_command,
    decode_reply,
    encode_command,
    encode_error,
    encode_reply,
    raise_reply,
)
from oms.engine.sessions import SubmitResult
from oms.errors import FieldError, NotFound, TradingHalted, ValidationError
from oms.model import TradingState
from oms.model.enums import AlgoName, Side
from oms.reconciliation import ResolveAction
from oms.risk.state import ResumeResult

texts = st.text(min_size=1, max_size=12)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=8,
                       min_value=Decimal("-1e12"), max_value=Decimal("1e12"))
floats = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | floats | texts,
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(texts, inner, max_size=3), max_leaves=8)
actors = st.sampled_from(["api", "desk", "strategy", "system"])

COMMANDS = st.one_of(
    st.builds(c.SubmitRebalance, st.dictionaries(texts, decimals, max_size=4),
              st.sampled_from(AlgoName), floats, floats, st.sampled_from(["reject", "clip"]),
              actor=actors),
    st.builds(c.SubmitParentOrder, texts, st.sampled_from(Side), decimals,
              st.sampled_from(AlgoName), floats, floats, st.none() | floats,
              st.none() | decimals, st.dictionaries(texts, json_values, max_size=3), texts,
              actor=actors),
    st.builds(c.SubmitSignal, texts, st.sampled_from(Side), st.none() | decimals, floats,
              floats, st.sampled_from(["entry", "exit"]), st.booleans(), actor=actors),
    st.builds(c.CancelParent, texts, actor=actors),
    st.builds(c.ResubmitRemaining, texts, st.none() | floats, actor=actors),
    st.builds(c.KillSwitch, texts, st.booleans(), actor=actors),
    st.builds(c.Resume, texts, actor=actors),
    st.builds(c.ResetBreaker, texts, texts, actor=actors),
    st.builds(c.ResolveMismatch, texts, st.sampled_from(ResolveAction), texts, actor=actors),
)


def _through_json(value: object) -> object:
    return json.loads(json.dumps(value))  # what the database's JSON column gives back


@given(COMMANDS)
def test_every_command_round_trips_exactly_through_its_json_payload(command: c.Command) -> None:
    # Act
    kind, payload = encode_command(command)
    back = decode_command(kind, _through_json(payload), command.actor)  # type: ignore[arg-type]

    # Assert: equal, and every Decimal keeps its digits (1.50 stays 1.50, not 1.5)
    assert back == command
    assert type(back) is type(command)
    for name, value in payload.items():
        if isinstance(getattr(command, name), Decimal):
            assert str(getattr(back, name)) == str(getattr(command, name)) == value


def test_every_command_class_has_a_kind() -> None:
    assert set(COMMAND_KINDS) == {cls.__name__ for cls in (
        c.SubmitRebalance, c.SubmitParentOrder, c.SubmitSignal, c.CancelParent,
        c.ResubmitRemaining, c.KillSwitch, c.Resume, c.ResetBreaker, c.ResolveMismatch)}


@pytest.mark.parametrize(("kind", "payload", "field"), [
    ("DropTables", {}, "kind"),
    ("CancelParent", {}, "payload"),
    ("SubmitParentOrder", {"symbol": "BTCUSDT", "side": "UP", "quantity": "1", "algo": "twap",
                           "duration_minutes": 5}, "payload"),
    ("SubmitRebalance", {"targets": {"BTCUSDT": "lots"}, "algo": "twap",
                         "duration_minutes": 5, "urgency": 0.5}, "payload"),
])
def test_a_malformed_command_is_a_validation_error(kind: str, payload: dict[str, object],
                                                   field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_command(kind, payload, "api")
    assert caught.value.errors[0].field == field


@given(st.builds(SubmitResult, texts, st.lists(texts, max_size=3),
                 st.lists(st.tuples(texts, texts), max_size=3),
                 st.dictionaries(texts, st.tuples(texts, texts), max_size=3),
                 st.lists(texts, max_size=3),
                 st.none() | st.dictionaries(texts, texts, max_size=3)))
def test_a_submit_result_round_trips(result: SubmitResult) -> None:
    assert decode_reply(_through_json(encode_reply(result))) == result  # type: ignore[arg-type]


@pytest.mark.parametrize("result", [
    ResumeResult(TradingState.ACTIVE, True, "resumed: HALTED -> ACTIVE"), 3, "CANCELED",
    {"mismatch_id": "m1", "action": "adopt", "result": "adopted"}, None])
def test_other_replies_round_trip(result: object) -> None:
    assert decode_reply(_through_json(encode_reply(result))) == result  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [
    ValidationError([FieldError("targets", "too big"), FieldError("algo", "unknown")]),
    NotFound(FieldError("parent_id", "no working parent p-9")),
    TradingHalted("trading is HALTED: kill switch"),
    errors.MarketClosed("no quote for BTCUSDT"),
    errors.VenueRejected("filter failure", code=-1013),
    errors.OmsError("something else"),
])
def test_an_error_reply_reraises_the_same_class_with_its_field_errors(
        error: errors.OmsError) -> None:
    # Act
    reply = _through_json(encode_error(error))
    with pytest.raises(type(error)) as caught:
        raise_reply(reply)  # type: ignore[arg-type]

    # Assert
    assert type(caught.value) is type(error)
    assert str(caught.value) == str(error)
    if isinstance(error, ValidationError):
        assert isinstance(caught.value, ValidationError)
        assert caught.value.errors == error.errors
    if isinstance(error, errors.VenueError):
        assert isinstance(caught.value, errors.VenueError)
        assert caught.value.code == error.code

"""A resume while trading is ACTIVE says so and changes nothing: no state change, no risk
event, no audit row; a resume from HALTED still writes its rows and says what changed."""

from __future__ import annotations

from pathlib import Path

from oms_harness import OmsHarness, make_harness

from oms.model import TradingState
from oms.risk.state import ResumeResult


def _rows(h: OmsHarness) -> tuple[int, int]:
    return (len(h.oms.repository.audit(limit=100_000)),
            len(h.oms.repository.risk_events(limit=100_000)))


def _resume(h: OmsHarness, reason: str) -> ResumeResult:
    future = h.service.resume(reason, actor="desk", wait=False)
    h.tick()
    result = future.result(timeout=5)
    assert isinstance(result, ResumeResult)
    return result


def test_a_resume_while_active_writes_nothing_and_says_it_was_already_active(
        tmp_path: Path) -> None:
    # Arrange: an ACTIVE account that has written rows of its own already
    h = make_harness(tmp_path)
    h.run(5)
    before = _rows(h)

    # Act: two resumes in a row, each in its own tick
    first = _resume(h, "just checking")
    second = _resume(h, "checking again")
    h.run(2)

    # Assert
    assert _rows(h) == before
    assert first == second
    assert first.changed is False and first.state is TradingState.ACTIVE
    assert "already ACTIVE" in first.message
    assert h.service.snapshot().trading_state is TradingState.ACTIVE and not h.oms.gate.is_halted
    h.oms.close()


def test_a_resume_from_halted_records_the_change_and_says_so(tmp_path: Path) -> None:
    # Arrange
    h = make_harness(tmp_path)
    h.service.kill("drill", actor="desk")
    h.tick()
    audit_before, risk_before = _rows(h)

    # Act
    result = _resume(h, "drill over")

    # Assert
    audit_after, risk_after = _rows(h)
    assert result.changed is True and result.state is TradingState.ACTIVE
    assert "HALTED -> ACTIVE" in result.message
    assert audit_after == audit_before + 1 and risk_after == risk_before + 2
    h.oms.close()


def test_a_resume_queued_ahead_of_a_kill_in_flight_does_not_reopen_the_gate(
        tmp_path: Path) -> None:
    # Arrange: the kill switch closed the gate; its command is not yet applied (still ACTIVE)
    h = make_harness(tmp_path)
    h.oms.gate.halt("kill in flight", h.clock.now())
    before = _rows(h)

    # Act
    future = h.service.resume("too early", actor="desk", wait=False)
    h.tick()

    # Assert: refused, the gate stays closed, nothing written
    error = future.exception(timeout=5)
    assert error is not None and "kill is being applied" in str(error)
    assert h.oms.gate.is_halted and _rows(h) == before
    h.oms.close()

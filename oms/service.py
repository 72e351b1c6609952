"""OmsService: the facade pages, the REST API and the CLI call. It never touches engine objects:
it validates input, queues commands and waits on their futures; reads come from the published
snapshot or from the database through read-only sessions."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from oms.commands import (
    CancelParent,
    Command,
    KillSwitch,
    ResetBreaker,
    ResolveMismatch,
    ResubmitRemaining,
    Resume,
    SubmitParentOrder,
    SubmitRebalance,
    SubmitSignal,
)
from oms.config import Settings
from oms.engine import ExecutionEngine, SubmitResult
from oms.errors import FieldError, NotFound, OmsError, PersistenceError, ValidationError
from oms.model import Side, TradingState
from oms.persistence.history import EquitySample, HistoryRange
from oms.persistence.repository import Page, Repository
from oms.pretrade_estimate import RebalanceEstimate, estimate_rebalance
from oms.rebalance import (
    RebalancePlan,
    parse_targets_text,
    plan_rebalance,
    validate_targets,
)
from oms.reconciliation import ReconcileView, ResolveAction
from oms.risk.halt import HaltGate
from oms.service_inputs import (
    MAX_REASON_CHARS,
    errors_of,
    parse_algo,
    parse_breaker_name,
    parse_mismatch_id,
    parse_on_limit,
    parse_resolve_action,
    positive_float,
    unit_interval,
    validate_reason,
)
from oms.signals import parse_signal_size
from oms.snapshot import EngineSnapshot

__all__ = ["MAX_REASON_CHARS", "OmsService", "validate_reason"]

log = logging.getLogger(__name__)
_ZERO = Decimal(0)


class OmsService:
    """The one entry point of the dashboard, the REST API and the CLI."""

    def __init__(self, engine: ExecutionEngine, repository: Repository, settings: Settings,
                 gate: HaltGate, *, timeout_s: float = 10.0) -> None:
        self._engine = engine
        self.repository = repository
        self.settings = settings
        self.gate = gate
        self.timeout_s = timeout_s

    # -- commands -------------------------------------------------------------------------

    def _call(self, command: Command, wait: bool) -> Any:
        future = self._engine.enqueue(command)
        return self._result(future) if wait else future

    def _result(self, future: concurrent.futures.Future[Any]) -> Any:
        try:
            return future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            raise OmsError(f"the engine did not answer within {self.timeout_s} s; "
                           "the command stays queued") from None

    def parse_targets(self, targets: Mapping[str, object] | str) -> dict[str, Decimal]:
        """Validate targets given as text (``SYMBOL TARGET_USD`` lines) or a mapping."""
        raw = parse_targets_text(targets) if isinstance(targets, str) else dict(targets)
        return validate_targets(raw, self.settings.symbols, self.settings.risk.max_target_usd)

    def _duration(self, duration_minutes: object | None) -> float:
        if duration_minutes is None or duration_minutes == "":
            return self.settings.default_duration_minutes
        return positive_float("duration_minutes", duration_minutes, upper=24 * 60)

    def preview_rebalance(self, targets: Mapping[str, object] | str,
                          on_limit: object = "reject") -> RebalancePlan:
        """What a rebalance would do as of the latest snapshot (nothing sent): the same plan
        function on the same inputs as the submit, so the preview is what is sent."""
        clean = self.parse_targets(targets)
        mode = parse_on_limit(on_limit)
        inputs = self.snapshot().plan_inputs
        if inputs is None:
            raise OmsError("the engine has not published its state yet; try again")
        return plan_rebalance(clean, inputs, on_limit=mode)

    def estimate_rebalance(self, targets: Mapping[str, object] | str, algo: object = "auto",
                           duration_minutes: object | None = None, urgency: object = 0.5, *,
                           on_limit: object = "reject") -> RebalanceEstimate:
        """The pre-trade estimate of a rebalance as of the latest snapshot (nothing sent): the
        preview's plan, and per parent its children, expected cost and the limits it would hit.
        Every field is validated as the submit validates it (ValidationError, all fields)."""
        values = self._rebalance_values(targets, algo, duration_minutes, urgency, on_limit)
        snap = self.snapshot()
        inputs = snap.plan_inputs
        if inputs is None:
            raise OmsError("the engine has not published its state yet; try again")
        plan = plan_rebalance(values["targets"], inputs, on_limit=values["on_limit"])
        state = TradingState.HALTED if self.gate.is_halted else TradingState(snap.trading_state)
        return estimate_rebalance(plan, algo=values["algo"], duration_minutes=values["duration"],
                                  urgency=values["urgency"], now=snap.ts, settings=self.settings,
                                  filters=inputs.filters, quotes=snap.quotes, cash=snap.cash,
                                  daily_pnl=snap.daily_pnl, trading_state=state)

    def _rebalance_values(self, targets: Mapping[str, object] | str, algo: object,
                          duration_minutes: object | None, urgency: object,
                          on_limit: object) -> dict[str, Any]:
        """Every rebalance field checked (all errors together), or ValidationError."""
        errors: list[FieldError] = []
        values: dict[str, Any] = {}
        for name, check in (("targets", lambda: self.parse_targets(targets)),
                            ("algo", lambda: parse_algo(algo)),
                            ("duration", lambda: self._duration(duration_minutes)),
                            ("urgency", lambda: unit_interval("urgency", urgency)),
                            ("on_limit", lambda: parse_on_limit(on_limit))):
            try:
                values[name] = check()
            except ValidationError as exc:
                errors.extend(exc.errors)
        if errors:
            raise ValidationError(errors)
        return values

    def submit_rebalance(self, targets: Mapping[str, object] | str, algo: object = "auto",
                         duration_minutes: object | None = None, urgency: object = 0.5, *,
                         on_limit: object = "reject", actor: str = "api",
                         wait: bool = True) -> SubmitResult:
        """Validate everything, then queue the rebalance; raises ValidationError, nothing sent
        (the engine refuses it whole, with the numbers, when a parent would breach a limit,
        unless ``on_limit="clip"``)."""
        values = self._rebalance_values(targets, algo, duration_minutes, urgency, on_limit)
        command = SubmitRebalance(values["targets"], values["algo"], values["duration"],
                                  values["urgency"], values["on_limit"], actor=actor)
        result: SubmitResult = self._call(command, wait)
        return result

    def submit_order(self, symbol: str, side: str | Side, quantity: object, algo: object = "auto",
                     duration_minutes: object | None = None, urgency: object = 0.5, *,
                     confidence: float | None = None, algo_options: dict[str, Any] | None = None,
                     session_kind: str = "order", actor: str = "api",
                     wait: bool = True) -> SubmitResult:
        """Queue one parent order (quantity in the base asset)."""
        if symbol not in self.settings.symbols:
            raise ValidationError(FieldError("symbol", f"unknown symbol {symbol!r}"))
        try:
            side_ = Side(str(side).upper())
        except ValueError:
            raise ValidationError(FieldError("side", f"must be BUY or SELL, got {side!r}")) \
                from None
        try:
            qty = Decimal(str(quantity))
        except InvalidOperation:
            raise ValidationError(FieldError("quantity", f"must be a number, got {quantity!r}")) \
                from None
        if not qty.is_finite() or qty <= 0:
            raise ValidationError(FieldError("quantity", f"must be positive, got {quantity!r}"))
        command = SubmitParentOrder(symbol, side_, qty, parse_algo(algo),
                                    self._duration(duration_minutes),
                                    unit_interval("urgency", urgency),
                                    confidence,
                                    algo_options=dict(algo_options or {}),
                                    session_kind=session_kind, actor=actor)
        result: SubmitResult = self._call(command, wait)
        return result

    def _signal_command(self, symbol: str, side: str | Side, size_usd: object,
                        confidence: object, urgency: object, kind: str, size: object, *,
                        actor: str, dry_run: bool) -> SubmitSignal:
        errors: list[FieldError] = []
        if symbol not in self.settings.symbols:
            errors.append(FieldError("symbol", f"unknown symbol {symbol!r}"))
        if str(side).upper() not in ("BUY", "SELL"):
            errors.append(FieldError("side", f"must be BUY or SELL, got {side!r}"))
        if kind not in ("entry", "exit"):
            errors.append(FieldError("kind", f"must be entry or exit, got {kind!r}"))
        usd: Decimal | None = _ZERO
        try:
            usd = parse_signal_size(size_usd, size, upper=self.settings.risk.max_target_usd)
        except ValidationError as exc:
            errors.extend(exc.errors)
        values: dict[str, float] = {}
        for name, value in (("confidence", confidence), ("urgency", urgency)):
            try:
                values[name] = unit_interval(name, value)
            except ValidationError as exc:
                errors.extend(exc.errors)
        if errors:
            raise ValidationError(errors)
        return SubmitSignal(symbol, Side(str(side).upper()), usd, values["confidence"],
                            values["urgency"], kind, dry_run=dry_run, actor=actor)

    def submit_signal(self, symbol: str, side: str | Side, size_usd: object, confidence: object,
                      urgency: object, kind: str = "entry", *, size: object = None,
                      actor: str = "strategy", wait: bool = True) -> SubmitResult:
        """Queue a strategy signal (entry or exit) of ``size_usd``, or of ``size`` (a number,
        or "auto": fractional Kelly with volatility targeting, ``SubmitResult.sizing``)."""
        command = self._signal_command(symbol, side, size_usd, confidence, urgency, kind, size,
                                       actor=actor, dry_run=False)
        result: SubmitResult = self._call(command, wait)
        return result

    def preview_signal(self, symbol: str, side: str | Side, size_usd: object,
                       confidence: object, urgency: object, kind: str = "entry", *,
                       size: object = None, wait: bool = True) -> Any:
        """Size a signal as the submit would, creating nothing: a SubmitResult without session
        or parents (``sizing`` is None unless auto); its future when not ``wait``."""
        command = self._signal_command(symbol, side, size_usd, confidence, urgency, kind, size,
                                       actor="preview", dry_run=True)
        return self._call(command, wait)

    def cancel_parent(self, parent_id: str, *, actor: str = "api", wait: bool = True) -> Any:
        """Cancel a working parent and its children. NotFound when no parent has that id;
        ValidationError when it exists but is no longer working (its state named)."""
        if not wait:
            return self._call(CancelParent(parent_id, actor=actor), False)
        try:
            return self._call(CancelParent(parent_id, actor=actor), True)
        except NotFound:
            state = self.repository.parent_state(parent_id)
            if state is None:
                shown = parent_id if len(parent_id) <= 64 else parent_id[:64] + "..."
                raise NotFound(FieldError("parent_id", f"no parent order {shown!r}")) from None
            raise ValidationError(FieldError("parent_id", f"{parent_id} is not working (it is "
                                                          f"{state})")) from None

    def resubmit_remaining(self, parent_id: str, duration_minutes: object | None = None, *,
                           actor: str = "api", wait: bool = True) -> SubmitResult:
        """Queue a new parent for the unfilled rest of a HALTED, CANCELED or FAILED parent
        (same symbol, side, algorithm and options; the old horizon unless one is given)."""
        duration = (None if duration_minutes is None or duration_minutes == ""
                    else positive_float("duration_minutes", duration_minutes, upper=24 * 60))
        result: SubmitResult = self._call(
            ResubmitRemaining(parent_id, duration, actor=actor), wait)
        return result

    def routing_decisions(self, parent_id: str) -> list[dict[str, Any]]:
        """Where each child of the parent was routed and why (newest first; none on one
        venue)."""
        return self.repository.routing_decisions(parent_id)

    def resubmit_links(self, parent_id: str) -> dict[str, str]:
        """``resubmitted_as`` / ``resubmitted_from``: the parents a resubmit links to this one."""
        return self.repository.resubmit_links(parent_id)

    def kill(self, reason: object = "kill switch", *, actor: str = "api",
             wait: bool = False) -> Any:
        """Halt NOW: close the gate in this thread (no child can leave after this line), commit
        the halt (from here on it survives a crash), then queue the cancel-all for the engine.

        A bad reason is a ValidationError and changes nothing. If the commit fails the gate
        stays closed and the cancel-all is queued all the same (the engine then writes the
        halt at its next tick), and PersistenceError tells the caller it is not yet durable.
        """
        text = validate_reason(reason)
        was_halted = self.gate.is_halted
        now = self._engine.clock.now()
        self.gate.halt(text, now)
        failure: Exception | None = None
        try:
            previous = (TradingState.HALTED.value if was_halted
                        else str(self._engine.snapshot.trading_state))
            self.repository.record_halt(now, text, actor, previous=previous)
        except Exception as exc:  # any failure: the cancel-all below must still be queued
            failure = exc
        future = self._call(KillSwitch(text, actor=actor, durable=failure is None), False)
        if failure is not None:
            log.error("kill by %s is in force but not durable: %s", actor, failure)
            raise PersistenceError(
                "trading is HALTED (the gate is closed and the cancel-all is queued) but the "
                f"halt is not yet durable: {failure}; the engine writes it at its next tick, "
                "a crash before then would restart ACTIVE") from failure
        return self._result(future) if wait else future

    def resume(self, reason: object, *, actor: str = "api", wait: bool = True) -> Any:
        """Return to ACTIVE (an explicit act with a reason); answers a ``ResumeResult`` (with
        ``wait``), whose ``changed`` is False when trading was already ACTIVE (nothing written)."""
        return self._call(Resume(validate_reason(reason), actor=actor), wait)

    def reset_breaker(self, name: object, reason: object, *, actor: str = "api",
                      wait: bool = True) -> Any:
        """Re-arm a tripped circuit breaker (an explicit act with a reason)."""
        errors = [*errors_of(lambda: parse_breaker_name(name)),
                  *errors_of(lambda: validate_reason(reason))]
        if errors:
            raise ValidationError(errors)
        command = ResetBreaker(parse_breaker_name(name), validate_reason(reason), actor=actor)
        return self._call(command, wait)

    def resolve_mismatch(self, mismatch_id: object, action: object, reason: object = None, *,
                         actor: str = "api", wait: bool = True) -> Any:
        """Resolve an open reconciliation mismatch: ``adopt`` (the OMS takes the venue's view),
        ``cancel`` (an unknown order, at the venue) or ``ignore`` (``reason`` required). Every
        field is checked before anything is queued; the engine refuses an action that does not
        fit the mismatch (ValidationError naming the field, nothing applied)."""
        errors = [*errors_of(lambda: parse_mismatch_id(mismatch_id)),
                  *errors_of(lambda: parse_resolve_action(action))]
        given = reason is not None and reason != ""
        ignoring = isinstance(action, str) and action.strip().lower() == ResolveAction.IGNORE
        if given or ignoring:  # a reason is required to ignore, checked whenever given
            errors += errors_of(lambda: validate_reason(reason))
        if errors:
            raise ValidationError(errors)
        command = ResolveMismatch(parse_mismatch_id(mismatch_id), parse_resolve_action(action),
                                  validate_reason(reason) if given else "", actor=actor)
        return self._call(command, wait)

    # -- reads ----------------------------------------------------------------------------

    def command_queue_depth(self) -> int:
        """Commands queued for the engine and not yet taken by a tick."""
        return self._engine.queued_commands()

    def snapshot(self) -> EngineSnapshot:
        """The latest engine snapshot."""
        return self._engine.snapshot

    def reconciliation(self) -> ReconcileView:
        """Running reconciliation as of the latest snapshot: last run, open mismatches."""
        view = self.snapshot().reconciliation
        return view if view is not None else ReconcileView(enabled=False, interval_s=0.0)

    def equity_history(self, span: object = "session") -> list[EquitySample]:
        """Equity and P&L samples from the database (``session``: this engine run, ``day``:
        the market's UTC day, ``all``), oldest first, at most a chart's worth of points."""
        try:
            chosen = HistoryRange(str(span).strip().lower())
        except ValueError:
            allowed = ", ".join(r.value for r in HistoryRange)
            raise ValidationError(FieldError("range", f"must be one of {allowed}, got "
                                                      f"{span!r:.40}")) from None
        return self.repository.equity_history(chosen)

    def parent_orders(self, **filters: Any) -> Page:
        """Parent orders from the database (paged; see Repository.parents_page)."""
        return self.repository.parents_page(**filters)

    def child_orders(self, **filters: Any) -> Page:
        """Child orders from the database (paged; see Repository.children_page)."""
        return self.repository.children_page(**filters)

    def fills(self, *, parent_id: str | None = None, session_id: str | None = None) -> list[Any]:
        """Fills of a parent or a session."""
        return self.repository.fills_for(parent_id=parent_id, session_id=session_id)

    def sessions(self, limit: int = 200) -> list[dict[str, Any]]:
        """Recent execution sessions."""
        return self.repository.sessions(limit)

    def report(self, session_id: str | None = None) -> dict[str, Any] | None:
        """The stored ExecutionReport of a session (the newest if no id)."""
        return self.repository.report(session_id)

    def daily_summary(self) -> list[dict[str, Any]]:
        """Per UTC day: orders, notional, cost bps, worst parents."""
        from oms.tca.daily import daily_summary

        return daily_summary(self.repository.reports())

    def risk_events(self, kind: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Recent risk events."""
        return self.repository.risk_events(kind=kind, limit=limit)

"""Risk: pre-trade checks (pure), circuit breakers, the trading state and the halt gate.

Import from the submodules; this package stays import-free so the venue layer can use the halt
gate without pulling the rest of risk in.

- ``violations``: ``Violation`` (code, message, numbers) and the ``ViolationCode`` names.
- ``checks``: one pure function per rule.
- ``windows``: rolling windows of approved orders (rate, duplicates).
- ``pretrade``: ``PreTradeRisk`` runs every rule on one child order under a ``RiskContext``.
- ``breakers``: ``CircuitBreakers`` (high_slippage, high_rejection, high_latency, market_stress).
- ``state``: ``TradingStateMachine`` (ACTIVE / REDUCING / HALTED) and ``TradingStateChanged``.
- ``halt``: ``HaltGate``, the flag every send path checks.

How an engine uses them, in order:

1. Start: ``TradingStateMachine(persisted_state, gate=gate)``; ``CircuitBreakers(settings)``
   then ``restore_trip`` for each persisted trip not yet reset; ``PreTradeRisk(limits, symbols)``.
2. Every tick: ``breakers.tick(now)`` (persist the ``BreakerRearmable`` events).
3. Every new child, one by one: build a ``RiskContext`` (open orders and the cash reserved by
   open buys include the children approved earlier in the batch);
   ``violation = pretrade.approve(child, ctx)``. If a violation: mark the child denied,
   persist ``violation.as_dict()``, tell its algorithm (``on_reject``). Otherwise the child is
   already counted in the rate and duplicate windows; commit it, send it, and if it is not sent
   after all (commit failed, halt gate closed, venue unreachable) ``pretrade.release(child)``.
   ``pretrade.check`` is the same verdict without counting (previews).
4. Venue results: ``on_order_result(rejected, now)`` for each ack or reject;
   ``on_latency(ms, now)`` for each ack; ``on_child_slippage(bps, now)`` once per child when it
   is done (its average fill price); ``on_price_impact(bps, now)`` once per market move (tick to
   tick). A returned ``BreakerTrip``: persist it, then
   ``state.escalate(trip.action, f"breaker:{trip.name}", trip.reason, now)`` (HALTED also means
   cancel every working child).
5. Operators: ``breakers.reset(name, who, reason, now)``; ``state.resume(who, reason, now,
   blockers=breakers.blocking())``; limit edits: ``pretrade.update_limits(limits)`` and
   ``breakers.configure(settings)``.
"""

__all__: list[str] = []

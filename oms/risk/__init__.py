"""Risk: pre-trade checks (pure), circuit breakers, the trading state and the halt gate.

Import from the submodules (``oms.risk.pretrade``, ``oms.risk.breakers``, ``oms.risk.state``,
``oms.risk.halt``); this package stays import-free so the venue layer can use the halt gate
without pulling the rest of risk in.
"""

__all__: list[str] = []

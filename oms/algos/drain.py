"""DrainAlgo: what a parent runs after a restart when its algorithm is not rebuilt.

With ``OMS_RECOVERY=drain`` the children the venue still works (or will settle) are followed to
their end, nothing new is sent, and the parent then ends with whatever is unfilled reported. With
``OMS_RECOVERY=cancel`` (``cancel=True``) it is finished at once: the engine cancels the surviving
children and ends the parent. A parent whose algorithm cannot be rebuilt (options no longer
valid) drains too. Not selectable by traders (not in the registry).
"""

from __future__ import annotations

from oms.algos.base import AlgoContext, ExecutionAlgo, Intent
from oms.model.orders import ParentOrder

__all__ = ["DrainAlgo"]


class DrainAlgo(ExecutionAlgo):
    """Sends nothing; finished once no child of the parent is working (at once to cancel)."""

    def __init__(self, parent: ParentOrder, *, cancel: bool = False,
                 reason: str = "engine restarted: the surviving children were followed to "
                               "their end") -> None:
        super().__init__(parent)
        self.cancel = cancel
        self.stop_reason = reason

    def on_start(self, ctx: AlgoContext) -> list[Intent]:
        """Nothing to send."""
        return []

    def on_timer(self, ctx: AlgoContext) -> list[Intent]:
        """Nothing to send."""
        return []

    def is_finished(self, ctx: AlgoContext) -> bool:
        """Done when the venue has settled every surviving child (at once when canceling)."""
        return self.cancel or not ctx.working_children

"""DrainAlgo: what a parent runs after a restart while its surviving children finish.

The algorithm that planned the parent did not survive the restart; the children the venue still
works (or will settle) are followed to their end, nothing new is sent, and the parent then ends
with whatever is unfilled reported. Not selectable by traders (not in the registry).
"""

from __future__ import annotations

from oms.algos.base import AlgoContext, ExecutionAlgo, Intent

__all__ = ["DrainAlgo"]


class DrainAlgo(ExecutionAlgo):
    """Sends nothing; finished once no child of the parent is working."""

    stop_reason = "engine restarted: the surviving children were followed to their end"

    def on_start(self, ctx: AlgoContext) -> list[Intent]:
        """Nothing to send."""
        return []

    def on_timer(self, ctx: AlgoContext) -> list[Intent]:
        """Nothing to send."""
        return []

    def is_finished(self, ctx: AlgoContext) -> bool:
        """Done when the venue has settled every surviving child."""
        return not ctx.working_children

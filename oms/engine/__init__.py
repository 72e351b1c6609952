"""The execution engine: one writer of order state per account (see core.py for the tick)."""

from oms.engine.core import ExecutionEngine
from oms.engine.sessions import SubmitResult

__all__ = ["ExecutionEngine", "SubmitResult"]

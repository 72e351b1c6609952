"""Execution algorithms: one module each behind ``oms.algos.base.ExecutionAlgo``.

Entry points: ``oms.algos.registry.create_algo`` (AlgoName -> algorithm) and
``oms.algos.selection.select_algo`` (the ``algo=auto`` policy). Shared machinery:
``executor`` (target following, placement, rejections, halts, window end), ``schedule``
(slicing, rounding, merging) and ``placement`` (passive at the touch, cross near the deadline).
"""

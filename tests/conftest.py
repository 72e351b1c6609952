"""Shared fixtures (helpers live in oms_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from oms_harness import OmsHarness, make_harness, shared_data_dir


@pytest.fixture
def binance_data() -> Path:
    """The real Binance data directory (skips the test when it is absent)."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data/binance is not available")
    return path


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[OmsHarness]:
    """A fresh OMS harness with default settings."""
    h = make_harness(tmp_path)
    yield h
    h.oms.close()

"""A REST test client bound to one isolated app (own SQLite file, engine ticking).

Imported as ``from api_client import Api, api_settings`` by the tests of /api/v1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py lives at the repository root
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from oms.bootstrap import Oms, build_oms  # noqa: E402
from oms.config import Settings  # noqa: E402


class Api:
    """A test client bound to one isolated app (own database, engine ticking)."""

    def __init__(self, settings: Settings) -> None:
        self.oms: Oms = build_oms(settings)
        self.app = create_app(settings, self.oms, start_engine=True)
        self.client = self.app.server.test_client()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, **kwargs)


def api_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of a fast test app: its own SQLite file, replay at 120x, 50 ms ticks."""
    return Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", speed=120.0,
                    tick_interval_ms=50, **overrides)

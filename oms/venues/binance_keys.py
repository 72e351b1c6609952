"""API credentials: from the environment or a key file outside the repository, never shown.

``ApiCredentials`` masks itself in repr/str; nothing here logs a key. For production keys,
``check_key_permissions`` refuses a key that can withdraw and warns when it has no IP restriction.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from oms.config import BinanceSettings
from oms.errors import ConfigError, VenueError

__all__ = ["ApiCredentials", "check_key_permissions", "load_credentials"]

log = logging.getLogger(__name__)

_REPO_ROOT = Path(__file__).resolve().parents[2]


class ApiCredentials:
    """An API key and secret; ``repr``/``str`` never show them."""

    __slots__ = ("_key", "_secret")

    def __init__(self, api_key: str, api_secret: str) -> None:
        if not api_key or not api_secret:
            raise ConfigError("Binance API key and secret are both required")
        self._key = api_key
        self._secret = api_secret

    def reveal(self) -> tuple[str, str]:
        """(key, secret), for the client constructor only."""
        return self._key, self._secret

    def __repr__(self) -> str:
        return "ApiCredentials(api_key=****, api_secret=****)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("ApiCredentials cannot be pickled")


def _read_key_file(path: Path, repo_root: Path) -> ApiCredentials:
    resolved = path.expanduser().resolve()
    if resolved.is_relative_to(repo_root.resolve()):
        raise ConfigError(f"the key file must live outside the repository ({repo_root})")
    if not resolved.is_file():
        raise ConfigError(f"key file not found: {resolved}")
    if resolved.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("key file %s is readable by others; chmod 600 it", resolved)
    values: dict[str, str] = {}
    for line in resolved.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip().lower()] = value.strip()
    return ApiCredentials(values.get("api_key", ""), values.get("api_secret", ""))


def load_credentials(
    settings: BinanceSettings,
    *,
    testnet: bool,
    env: Mapping[str, str] | None = None,
    repo_root: Path = _REPO_ROOT,
) -> ApiCredentials:
    """Keys from the environment (names in settings), else from ``settings.key_file``."""
    env = os.environ if env is None else env
    key_env = settings.testnet_key_env if testnet else settings.production_key_env
    secret_env = settings.testnet_secret_env if testnet else settings.production_secret_env
    key, secret = env.get(key_env, ""), env.get(secret_env, "")
    if key and secret:
        return ApiCredentials(key, secret)
    if settings.key_file is not None:
        return _read_key_file(settings.key_file, repo_root)
    raise ConfigError(
        f"no Binance {'testnet ' if testnet else ''}keys: set {key_env} and {secret_env} "
        "or OMS_BINANCE__KEY_FILE (a file outside the repository)")


def check_key_permissions(get_permissions: Callable[[], dict[str, Any]]) -> list[str]:
    """Refuse a key allowed to withdraw (ConfigError); return warnings (no IP restriction)."""
    try:
        perms = get_permissions()
    except VenueError as exc:
        raise ConfigError(f"cannot read the API key's permissions: {exc}") from exc
    if perms.get("enableWithdrawals"):
        raise ConfigError("this API key can withdraw funds: create a trade-only key")
    warnings: list[str] = []
    if not perms.get("enableSpotAndMarginTrading", True):
        raise ConfigError("this API key cannot trade spot: enable spot trading on it")
    if not perms.get("ipRestrict"):
        warnings.append("the API key has no IP restriction: restrict it to this host's IP")
    for text in warnings:
        log.warning(text)
    return warnings

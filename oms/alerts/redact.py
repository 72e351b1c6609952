"""Apprise URLs without their secrets: an apprise URL holds tokens (a Telegram bot token, Slack
webhook keys, an SMTP password, a webhook path), so it is never logged or shown whole.

Apprise itself logs the URLs it loads ("Loaded JSON URL: json://..."), and urllib3 the paths it
posts to, so every use of apprise here first installs a filter on those loggers that rewrites
any URL in a record to its scheme and removes the secret parts of the configured URLs.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

__all__ = ["protect_apprise_log", "redact_url", "unusable_url"]

_URL = re.compile(r"\b([a-z][a-z0-9+.-]{0,20})://[^\s'\"<>]*", re.IGNORECASE)


class _AppriseLogRedactor(logging.Filter):
    """Rewrites apprise's log records: URLs to ``scheme://…``, known secret parts to ``…``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = _URL.sub(lambda m: f"{m.group(1)}://…", text)
        for secret in sorted(self.secrets, key=len, reverse=True):
            cleaned = cleaned.replace(secret, "…")
        if cleaned != text:
            record.msg, record.args = cleaned, None
        return True


_REDACTOR = _AppriseLogRedactor()
# apprise logs the URLs it loads; urllib3 (under apprise's requests) logs each request's path at
# DEBUG, and a webhook's path is often its token
_LOGGERS = ("apprise", "urllib3.connectionpool")


def protect_apprise_log(*urls: str) -> None:
    """Install the apprise log filter (once) and teach it the secret parts of ``urls``."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
    for url in urls:
        body = url.split("://", 1)[-1]
        _REDACTOR.secrets.add(body)
        # tokens logged on their own (a bot token in an error text): any long piece of the URL
        _REDACTOR.secrets.update(piece for piece in re.split(r"[/@:?&=]", body)
                                 if len(piece) >= 8 and not piece.replace(".", "").isdigit())


def unusable_url(url: str) -> str | None:
    """Why apprise cannot use ``url`` (None when it can); the answer never contains the URL."""
    import apprise  # a heavy import (its plugins): only where alerts are configured

    if not url.strip():
        return "the URL is empty"
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        return "not a URL (expected scheme://..., e.g. json://127.0.0.1:9000/hook)"
    protect_apprise_log(url)
    if apprise.Apprise.instantiate(url) is None:
        return (f"apprise cannot use this {scheme[:20]}:// URL (unknown scheme or missing "
                "parts)")
    return None


def redact_url(url: str) -> str:
    """``scheme://host/…``: apprise's privacy form (tokens shortened) without path and query
    (a generic webhook's path is often its secret)."""
    import apprise

    protect_apprise_log(url)
    plugin = apprise.Apprise.instantiate(url)
    # apprise is untyped: its privacy URL keeps the scheme and host, shortens the tokens
    private = plugin.url(privacy=True) if plugin is not None else url  # type: ignore[no-untyped-call]
    parts = urlsplit(str(private))
    if not parts.scheme:
        return "<unusable URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1] if plugin is None else parts.netloc
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{netloc}{rest}"

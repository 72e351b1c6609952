"""The one exception tree of the OMS.

Each class says how the operator (or the calling code) must react::

    OmsError
    ├── ConfigError              bad settings: stop and fix the configuration (needs a person)
    ├── ValidationError          bad input: reject it whole, nothing applied; carries field errors
    │   └── NotFound             the order (or other thing) named does not exist: nothing applied
    ├── InvalidTransition        an order state change the transition table forbids; order unchanged
    ├── NotYetApplied            the command is queued (its id) but no engine applied it in time
    ├── TradingHalted            the halt gate is closed: no order may leave the process
    ├── MarketClosed             no prices (exchange halt, data gap): do not invent one
    ├── PersistenceError         the database failed: the tick is rolled back, nothing is sent
    │   └── Fenced               another engine took over this account: stop writing, exit
    └── VenueError               anything at or beyond the venue boundary
        ├── VenueRejected        the venue refused the request (code, message): do not resend as is
        ├── VenueUnavailable     transient (timeout, 5xx, 429, outage): retry later by itself
        ├── OrderStatusUnknown   the request may or may not have reached the venue: reconcile by
        │                        querying the client order id before any resend
        └── VenueBanned          the venue banned us (HTTP 418) or keys are unusable: halt, person
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "Fenced",
    "FieldError",
    "InvalidTransition",
    "MarketClosed",
    "NotFound",
    "NotYetApplied",
    "OmsError",
    "OrderStatusUnknown",
    "PersistenceError",
    "TradingHalted",
    "ValidationError",
    "VenueBanned",
    "VenueError",
    "VenueRejected",
    "VenueUnavailable",
]


class OmsError(Exception):
    """Root of every error the OMS raises on purpose."""


class ConfigError(OmsError):
    """The configuration is unusable; a person must fix it before the OMS can run."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field (a form line, a JSON key)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(OmsError):
    """Input was rejected as a whole; ``errors`` names each field and its problem."""

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class NotFound(ValidationError):
    """The input names something that does not exist (an unknown parent id); REST answers 404."""


class InvalidTransition(OmsError):
    """An order was asked to move to a state its transition table forbids."""


class NotYetApplied(OmsError):
    """The command is stored and queued for its account's engine, which has not applied it
    within the wait: it will be applied once; ask again by ``command_id``."""

    def __init__(self, command_id: int, account: str, waited_s: float) -> None:
        self.command_id = command_id
        self.account = account
        super().__init__(f"command {command_id} is queued for account {account}, not yet "
                         f"applied (waited {waited_s:g} s)")


class TradingHalted(OmsError):
    """The halt gate is closed (kill switch or breaker); nothing may be sent."""


class MarketClosed(OmsError):
    """The market has no prices now (exchange halt or data gap)."""


class PersistenceError(OmsError):
    """The database could not record a change; the change was not applied."""


class Fenced(PersistenceError):
    """This engine lost its account's lease (a standby took over): nothing it would write is
    applied; the process must stop."""


class VenueError(OmsError):
    """An error at the venue boundary; subclasses say how to react."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message if code is None else f"{code}: {message}")


class VenueRejected(VenueError):
    """The venue refused the request; resending it unchanged would fail again."""


class VenueUnavailable(VenueError):
    """A transient failure (timeout before sending, 5xx, 429, outage); retry later."""

    def __init__(self, message: str, *, code: int | None = None,
                 retry_after_s: float | None = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, code=code)


class OrderStatusUnknown(VenueError):
    """The order may exist at the venue; query it by client order id before any resend."""


class VenueBanned(VenueError):
    """The venue banned us or the credentials are unusable; halt and call a person."""

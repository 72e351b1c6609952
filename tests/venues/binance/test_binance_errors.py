"""python-binance and requests exceptions become the OMS error tree at the boundary."""

from __future__ import annotations

import json

import pytest
import requests
from binance.exceptions import BinanceAPIException, BinanceRequestException

from oms.errors import OrderStatusUnknown, VenueBanned, VenueRejected, VenueUnavailable
from oms.venues.binance_errors import translate_exception


class _Response:
    def __init__(self, status: int, body: dict[str, object] | str, headers: dict[str, str]) -> None:
        self.status_code = status
        self.text = body if isinstance(body, str) else json.dumps(body)
        self.headers = headers


def api_error(status: int, code: int | None, headers: dict[str, str] | None = None) -> Exception:
    body: dict[str, object] | str = {"code": code, "msg": "m"} if code is not None else "oops"
    response = _Response(status, body, headers or {})
    error: Exception = BinanceAPIException(response, status, response.text)
    return error


@pytest.mark.parametrize(("exc", "placing", "expected"), [
    (api_error(400, -2010), True, VenueRejected),
    (api_error(400, -1013), True, VenueRejected),
    (api_error(503, None), True, OrderStatusUnknown),
    (api_error(503, None), False, VenueUnavailable),
    (api_error(400, -1006), True, OrderStatusUnknown),
    (api_error(408, -1007), True, OrderStatusUnknown),
    (api_error(400, -1021), True, VenueUnavailable),
    (api_error(401, -2015), False, VenueBanned),
    (api_error(418, -1003), True, VenueBanned),
    (requests.exceptions.ReadTimeout(), True, OrderStatusUnknown),
    (requests.exceptions.ReadTimeout(), False, VenueUnavailable),
    (requests.exceptions.ConnectTimeout(), True, VenueUnavailable),
    (requests.exceptions.ConnectionError(), True, OrderStatusUnknown),
    (BinanceRequestException("Invalid Response"), True, OrderStatusUnknown),
])
def test_translation(exc: Exception, placing: bool, expected: type[Exception]) -> None:
    translated = translate_exception(exc, placing=placing)

    assert type(translated) is expected


def test_429_carries_retry_after() -> None:
    translated = translate_exception(api_error(429, -1003, {"Retry-After": "17"}))

    assert isinstance(translated, VenueUnavailable) and translated.retry_after_s == 17
    assert translated.code == -1003

"""Loading a recorded Binance L2 session: depth snapshot, depth diffs and trades, validated.

The files are those of ``shared/data/binance/l2_trades`` (SOURCES.md there): a REST depth
snapshot (JSON with ``lastUpdateId``, ``bids``, ``asks``), the depth@100ms diff stream
(``local_recv_ts_ns,event_time_ms,first_update_id,final_update_id,side,price,qty``; ``qty`` is
the level's new absolute size, 0 removes it) and the trade stream
(``trade_id,price,qty,trade_time_ms,event_time_ms,is_buyer_maker,local_recv_ts_ns``). The
symbol is the file name's first ``_`` field (the files do not say it otherwise).

Binance's local order book procedure decides which diffs count: drop those with
``final_update_id <= lastUpdateId``; the first kept one must contain ``lastUpdateId + 1``; each
later one must start right after the previous one ends. A recording that breaks it cannot be
rebuilt and is refused (ValidationError naming the option). Everything is ordered by exchange
time (the recorder's clock ran behind). Arrays are numpy; nothing is copied anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from oms.errors import FieldError, ValidationError

__all__ = ["L2Recording", "load_l2", "symbol_of_file"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_DEPTH_COLUMNS = ("event_time_ms", "first_update_id", "final_update_id", "side", "price", "qty")
_TRADE_COLUMNS = ("trade_id", "price", "qty", "trade_time_ms", "is_buyer_maker")


@dataclass(frozen=True, slots=True)
class L2Recording:
    """One symbol's recording, bridged: the snapshot and the diffs that apply after it.

    Diff rows are grouped in messages (rows of one depth event, in update-id order);
    ``message_start[k]`` is the first row of message ``k``, ``message_time_s[k]`` its
    exchange time and ``message_final_id[k]`` its last update id. Trades are sorted by
    exchange time; ``trade_sell`` is True when the aggressor sold (``is_buyer_maker``)."""

    symbol: str
    last_update_id: int
    snapshot_bid_price: FloatArray
    snapshot_bid_qty: FloatArray
    snapshot_ask_price: FloatArray
    snapshot_ask_qty: FloatArray
    diff_is_bid: BoolArray
    diff_price: FloatArray
    diff_qty: FloatArray
    message_start: IntArray
    message_time_s: FloatArray
    message_final_id: IntArray
    trade_time_s: FloatArray
    trade_price: FloatArray
    trade_qty: FloatArray
    trade_sell: BoolArray

    @property
    def synced_at_s(self) -> float:
        """Exchange time of the first applied diff: the first instant the book is known."""
        return float(self.message_time_s[0])

    @property
    def end_s(self) -> float:
        """The last instant both streams cover (the earlier of their last events)."""
        last_trade = float(self.trade_time_s[-1]) if len(self.trade_time_s) else self.synced_at_s
        return min(float(self.message_time_s[-1]), last_trade)


def symbol_of_file(path: Path) -> str:
    """``BTCUSDT_20240808T2354_..._trades.csv.gz`` -> ``BTCUSDT``."""
    return path.name.split("_", 1)[0].upper()


def _read_csv(path: Path, field: str, columns: tuple[str, ...]) -> Any:
    import pandas as pd

    try:
        frame = pd.read_csv(path, usecols=list(columns),
                            dtype={"side": str, "is_buyer_maker": str})
    except ValueError as exc:  # a missing column, an unreadable number
        raise ValidationError(FieldError(field, f"{path} is not a recording of this kind: "
                                                f"{exc}")) from exc
    except (OSError, EOFError) as exc:
        raise ValidationError(FieldError(field, f"cannot read {path}: {exc}")) from exc
    if frame.empty:
        raise ValidationError(FieldError(field, f"{path} holds no rows"))
    return frame


def _snapshot(path: Path) -> tuple[int, FloatArray, FloatArray, FloatArray, FloatArray]:
    try:
        data = json.loads(path.read_text())
        last = int(data["lastUpdateId"])
        bids = np.asarray(data["bids"], dtype=np.float64).reshape(-1, 2)
        asks = np.asarray(data["asks"], dtype=np.float64).reshape(-1, 2)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(FieldError("book", f"{path} is not a Binance depth snapshot "
                                                 f"(lastUpdateId, bids, asks): {exc}")) from exc
    return last, bids[:, 0], bids[:, 1], asks[:, 0], asks[:, 1]


def _bridge(frame: Any, last_update_id: int,
            path: Path) -> tuple[Any, IntArray, FloatArray, IntArray]:
    """Keep the diffs after the snapshot; check they bridge it and are contiguous."""
    frame = frame[frame["final_update_id"] > last_update_id]
    # one level twice in one message: its last row is the level's size after it
    frame = frame[~frame.duplicated(["final_update_id", "side", "price"], keep="last")]
    if frame.empty:
        raise ValidationError(FieldError("depth", f"{path} has no diff after the snapshot's "
                                                  f"lastUpdateId {last_update_id}"))
    first = frame["first_update_id"].to_numpy(np.int64)
    final = frame["final_update_id"].to_numpy(np.int64)
    starts = np.flatnonzero(np.r_[True, (first[1:] != first[:-1]) | (final[1:] != final[:-1])])
    msg_first, msg_final = first[starts], final[starts]
    if not msg_first[0] <= last_update_id + 1 <= msg_final[0]:
        raise ValidationError(FieldError(
            "depth", f"{path} does not bridge the snapshot: its first diff after "
                     f"lastUpdateId {last_update_id} covers ids {msg_first[0]}..{msg_final[0]}, "
                     f"which must contain {last_update_id + 1}"))
    gaps = np.flatnonzero(msg_first[1:] != msg_final[:-1] + 1)
    if gaps.size:
        k = int(gaps[0])
        raise ValidationError(FieldError(
            "depth", f"{path} has a gap in the diff sequence: ids {msg_final[k]} then "
                     f"{msg_first[k + 1]} ({gaps.size} gaps)"))
    times = frame["event_time_ms"].to_numpy(np.float64)[starts] / 1000.0
    # exchange time never goes backwards along update ids; guard against a stray millisecond
    return frame, starts.astype(np.int64), np.maximum.accumulate(times), msg_final


def load_l2(book: Path | str, depth: Path | str, trades: Path | str) -> L2Recording:
    """Load and validate one recording; raises ValidationError naming ``book``, ``depth`` or
    ``trades`` (missing file, different symbols, a diff sequence that does not bridge)."""
    paths = {"book": Path(book), "depth": Path(depth), "trades": Path(trades)}
    missing = [FieldError(name, f"file {path} does not exist")
               for name, path in paths.items() if not path.is_file()]
    if missing:
        raise ValidationError(missing)
    symbols = {name: symbol_of_file(path) for name, path in paths.items()}
    if len(set(symbols.values())) > 1:
        raise ValidationError([FieldError(name, f"{paths[name]} holds {symbol}, --book holds "
                                                f"{symbols['book']}")
                               for name, symbol in symbols.items()
                               if symbol != symbols["book"]])
    last, bid_p, bid_q, ask_p, ask_q = _snapshot(paths["book"])
    diffs = _read_csv(paths["depth"], "depth", _DEPTH_COLUMNS)
    diffs, message_start, message_time, message_final = _bridge(diffs, last, paths["depth"])
    sides = diffs["side"].str.lower().to_numpy()
    if not np.isin(sides, ("bid", "ask")).all():
        raise ValidationError(FieldError("depth", f"{paths['depth']}: side must be bid or ask"))
    trade_frame = _read_csv(paths["trades"], "trades", _TRADE_COLUMNS)
    trade_frame = trade_frame.sort_values(["trade_time_ms", "trade_id"], kind="stable")
    maker = trade_frame["is_buyer_maker"].str.lower().to_numpy()
    return L2Recording(
        symbol=symbols["book"], last_update_id=last,
        snapshot_bid_price=bid_p, snapshot_bid_qty=bid_q,
        snapshot_ask_price=ask_p, snapshot_ask_qty=ask_q,
        diff_is_bid=sides == "bid",
        diff_price=diffs["price"].to_numpy(np.float64),
        diff_qty=diffs["qty"].to_numpy(np.float64),
        message_start=message_start, message_time_s=message_time,
        message_final_id=message_final,
        trade_time_s=trade_frame["trade_time_ms"].to_numpy(np.float64) / 1000.0,
        trade_price=trade_frame["price"].to_numpy(np.float64),
        trade_qty=trade_frame["qty"].to_numpy(np.float64),
        trade_sell=maker == "true",
    )

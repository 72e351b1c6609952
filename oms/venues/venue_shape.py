"""The market one paper venue shows: the reference market with a small price basis and scaled depth.

Several paper venues can run over ONE simulated market (the reference, Binance's klines). Each is
made distinct by a ``VenueShape``:

- a basis: the venue's prices are the reference's x (1 + basis(t)), the basis a stationary
  Ornstein-Uhlenbeck process of standard deviation ``basis_sd_bps`` and half-life
  ``basis_half_life_s`` (mean reversion to 0: arbitrage keeps venues near each other);
- a depth scale: every displayed and traded size is the reference's x ``depth_scale``;
- the venue's own price tick: its bids are floored and its asks ceiled onto it (never better
  than the scaled reference, never crossed).

The basis is exact OU on a fixed time grid (``grid_s``, 1 s or a tenth of the half-life), linear
between grid points, and deterministic for (seed, venue, symbol): the grid is cut in blocks of
20 half-lives; each block boundary value is a stationary N(0, sd^2) draw keyed by its index, and
the path inside a block is an OU bridge between its two boundaries (a forward OU path, then
corrected by sinh(theta s) / sinh(theta L) so that it ends on the next boundary), drawn from a
PCG64 generator keyed by (seed, venue, symbol, block). Boundaries 20 half-lives apart have a
correlation of 2^-20 in a true OU; they are drawn independent, so the path is an exact OU up to
that. So the value at t never depends on which times were asked before, or in what order.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal

import numpy as np

from oms.market.simulated import Top
from oms.market.types import Quote

__all__ = ["BLOCK_HALF_LIVES", "ShapedTop", "VenueShape"]

BLOCK_HALF_LIVES = 20  # block length: boundaries this many half-lives apart are drawn independent
_MIN_BLOCK_STEPS = 64
_BLOCKS_KEPT = 16
_MASK64 = (1 << 64) - 1
_EPS = 1e-9
_BPS = 1e-4
_BOUNDARY, _PATH = 0, 1


class ShapedTop(Top):
    """A venue's top of book and the reference top it was made from (``ref``), with the price
    factor (1 + basis) at its instant."""

    __slots__ = ("factor", "ref")

    def __init__(self, ref: Top, bid: float, ask: float, factor: float) -> None:
        super().__init__(ref.ts, bid, ask, ref.scale, ref.index)
        self.ref = ref
        self.factor = factor


class _Grid:
    """A venue price tick as a float, and whether prices must be moved onto it."""

    __slots__ = ("snap", "tick", "tick_decimal")

    def __init__(self, tick: Decimal, snap: bool) -> None:
        self.tick_decimal = tick
        self.tick = float(tick)
        self.snap = snap


def _key(text: str) -> int:
    return zlib.crc32(text.encode())


class VenueShape:
    """Basis and depth of one paper venue against the reference market (module docstring).

    ``basis`` is relative (1e-4 is 1 bp); ``ticks``: the venue's price tick per symbol (symbols
    absent keep the market's tick)."""

    def __init__(self, venue: str, *, seed: int, depth_scale: float = 1.0,
                 basis_sd_bps: float = 0.0, basis_half_life_s: float = 60.0,
                 ticks: Mapping[str, Decimal] | None = None) -> None:
        if not depth_scale > 0 or not math.isfinite(depth_scale):
            raise ValueError(f"depth_scale must be > 0, got {depth_scale}")
        if not basis_sd_bps >= 0 or not math.isfinite(basis_sd_bps):
            raise ValueError(f"basis_sd_bps must be >= 0, got {basis_sd_bps}")
        if not basis_half_life_s > 0 or not math.isfinite(basis_half_life_s):
            raise ValueError(f"basis_half_life_s must be > 0, got {basis_half_life_s}")
        self.venue = venue
        self.seed = seed
        self.depth_scale = float(depth_scale)
        self.basis_sd = basis_sd_bps * _BPS
        self.half_life_s = float(basis_half_life_s)
        self.grid_s = min(1.0, self.half_life_s / 10)
        self.block_steps = max(_MIN_BLOCK_STEPS,
                               math.ceil(BLOCK_HALF_LIVES * self.half_life_s / self.grid_s))
        theta = math.log(2) / self.half_life_s
        self._rho = math.exp(-theta * self.grid_s)
        self._innovation = self.basis_sd * math.sqrt(1 - self._rho * self._rho)
        span = theta * self.grid_s * self.block_steps
        steps = np.arange(self.block_steps + 1, dtype=np.float64) * (theta * self.grid_s)
        self._bridge = np.sinh(steps) / math.sinh(span)  # 0 at the start, 1 at the end
        self._powers = self._rho ** np.arange(self.block_steps + 1, dtype=np.float64)
        self._ticks = dict(ticks or {})
        self._grids: dict[str, _Grid] = {}
        self._market_tick: Callable[[str], Decimal] = lambda symbol: Decimal("0.01")
        self._blocks: dict[tuple[str, int], list[float]] = {}
        self._last: dict[str, tuple[int, list[float]]] = {}

    # ------------------------------------------------------------------ the basis
    def basis(self, symbol: str, t: float) -> float:
        """The relative basis of ``symbol`` at epoch second ``t`` (0.0001 = 1 bp)."""
        if self.basis_sd == 0.0:
            return 0.0
        u = t / self.grid_s
        k = math.floor(u)
        block, i = divmod(k, self.block_steps)
        last = self._last.get(symbol)
        if last is not None and last[0] == block:
            path = last[1]
        else:
            path = self._block(symbol, block)
            self._last[symbol] = (block, path)
        low = path[i]
        return low + (path[i + 1] - low) * (u - k)

    def factor(self, symbol: str, t: float) -> float:
        """1 + basis: what the venue's prices are of the reference's."""
        return 1.0 + self.basis(symbol, t)

    def _boundary(self, symbol: str, block: int) -> float:
        rng = self._generator(symbol, block, _BOUNDARY)
        return float(rng.standard_normal()) * self.basis_sd

    def _generator(self, symbol: str, block: int, kind: int) -> np.random.Generator:
        entropy = [self.seed & _MASK64, _key(self.venue), _key(symbol), block & _MASK64, kind]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))

    def _block(self, symbol: str, block: int) -> list[float]:
        """The grid values of one block, both boundaries included (block_steps + 1 points)."""
        cached = self._blocks.get((symbol, block))
        if cached is not None:
            return cached
        start, end = self._boundary(symbol, block), self._boundary(symbol, block + 1)
        shocks = self._generator(symbol, block, _PATH).standard_normal(self.block_steps)
        # forward OU from ``start``: x[k] = rho^k (start + c sum_{i<k} rho^-(i+1) z_i)
        scaled = np.concatenate(([0.0], np.cumsum(shocks / self._powers[1:])))
        forward = self._powers * (start + self._innovation * scaled)
        path = forward + self._bridge * (end - forward[-1])
        values: list[float] = path.tolist()
        values[0], values[-1] = start, end  # the neighbours' boundaries, exactly
        if len(self._blocks) >= _BLOCKS_KEPT:
            del self._blocks[next(iter(self._blocks))]
        self._blocks[(symbol, block)] = values
        return values

    # ------------------------------------------------------------------ the venue's book
    def bind(self, market_tick: Callable[[str], Decimal]) -> None:
        """Tell the shape the reference market's tick per symbol (the MarketView does)."""
        self._market_tick = market_tick
        self._grids.clear()

    def _grid(self, symbol: str) -> _Grid:
        grid = self._grids.get(symbol)
        if grid is None:
            market = self._market_tick(symbol)
            tick = self._ticks.get(symbol, market)
            grid = self._grids[symbol] = _Grid(tick, tick != market)
        return grid

    def tick(self, symbol: str) -> Decimal:
        """The venue's price tick of ``symbol``."""
        return self._grid(symbol).tick_decimal

    def top(self, symbol: str, ref: Top) -> ShapedTop:
        """The venue's top of book made from the reference's ``ref``."""
        factor = 1.0 + self.basis(symbol, ref.ts)
        grid = self._grid(symbol)
        if factor == 1.0 and not grid.snap:
            return ShapedTop(ref, ref.bid, ref.ask, factor)
        tick = grid.tick
        bid = math.floor(ref.bid * factor / tick + _EPS) * tick
        ask = math.ceil(ref.ask * factor / tick - _EPS) * tick
        return ShapedTop(ref, bid, max(ask, bid + tick), factor)

    def levels(self, symbol: str, buy: bool, top: ShapedTop,
               ref_levels: Iterator[tuple[float, float]]) -> Iterator[tuple[float, float]]:
        """The reference's levels at ``top.ref`` as the venue shows them: prices x factor (asks
        ceiled, bids floored onto the venue tick), sizes x depth_scale."""
        factor, scale = top.factor, self.depth_scale
        grid = self._grid(symbol)
        if factor == 1.0 and not grid.snap:
            for price, size in ref_levels:
                yield price, size * scale
            return
        tick = grid.tick
        for price, size in ref_levels:
            if buy:
                yield math.ceil(price * factor / tick - _EPS) * tick, size * scale
            else:
                yield math.floor(price * factor / tick + _EPS) * tick, size * scale

    def quote(self, quote: Quote, t: float) -> Quote:
        """A reference quote as the venue shows it at ``t`` (prices only: the filters' mid and
        the post-only check)."""
        factor = Decimal(repr(1.0 + self.basis(quote.symbol, t)))
        tick = self._grid(quote.symbol).tick_decimal
        bid = (quote.bid * factor / tick).to_integral_value(rounding="ROUND_FLOOR") * tick
        ask = (quote.ask * factor / tick).to_integral_value(rounding="ROUND_CEILING") * tick
        return replace(quote, bid=bid, ask=max(ask, bid + tick))

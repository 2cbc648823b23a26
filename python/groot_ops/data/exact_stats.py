"""Exact per-column statistics of data seen in blocks, over a few passes, in memory that does not grow.

``np.quantile`` (linear) needs the k-th and (k+1)-th smallest value of a column; keeping every value to
find them makes memory linear in rows. Here each wanted rank is narrowed down pass by pass instead,
and only the values that can still be it are kept:

- pass 0 (sample): a strided sample of each column; the caller supplies only the sampled rows, so
  this pass costs a read of the data and little else;
- pass 1: count, min, max, mean and sum of squared deviations (float64, per block, merged in block
  order with Chan's formula: the two-pass numbers to float64 rounding). And for each wanted rank, a
  bracket ``[lo, hi]`` of float32 values taken from the sample with a wide margin: values below it
  are counted, values inside are counted per bucket of their float32 bit pattern (an order-preserving
  key, so a bucket is a range of values) and, while the bracket is expected to be small, kept;
- pass 2 and later, only where a bracket held more values than the budget allowed or the sample
  misjudged it: the bucket holding the rank becomes the new bracket. Buckets shrink by
  ``2**BUCKET_BITS`` each pass; a bucket of one float32 value answers without keeping anything.

Kept values are the exact float32 inputs, so every order statistic is exact and the quantile is
interpolated with numpy's own formula. The sample, the histograms and the kept values are bounded by
constants (``SAMPLE_MAX``, ``BUCKET_BITS``, the keep budget), whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from groot_ops.errors import InputError

# Sample per column: 1/64 of the rows, within these bounds. A larger sample narrows the brackets (fewer
# values kept, fewer passes) at the cost of a slower sample pass; 32,768 lets the 2.17M-frame merge finish
# in two passes within the keep budget.
SAMPLE_MIN, SAMPLE_MAX, SAMPLE_FRACTION = 8192, 32768, 64
BUCKET_BITS = 10
# Values kept in one pass by one accumulator (4 bytes each), unless the caller gives another budget.
KEEP_BUDGET = 1 << 21
# A bracket's values are only kept when it is expected to hold at most this many.
KEEP_PER_RANK = 1 << 16
# Sample margin in standard deviations of a sample quantile's rank; a miss only costs a pass.
MARGIN_SIGMAS = 5.0
MAX_PASSES = 12
_SIGN = np.uint32(0x80000000)
_BUCKETS = 1 << BUCKET_BITS


def float_keys(values: np.ndarray) -> np.ndarray:
    """uint32 keys ordered like the float32 ``values`` (-0.0 counted as +0.0, as comparisons do)."""
    bits = (np.asarray(values, dtype=np.float32) + np.float32(0.0)).view(np.uint32)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def key_floats(keys: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys, dtype=np.uint32)
    return np.where(keys & _SIGN, keys ^ _SIGN, ~keys).view(np.float32)


_KEY_MIN = int(float_keys(np.array([-np.inf]))[0])
_KEY_MAX = int(float_keys(np.array([np.inf]))[0])


def _key_float(key: int) -> float:
    return float(key_floats(np.array([key], dtype=np.uint32))[0])


def _lerp(below: float, above: float, frac: float) -> float:
    # numpy's _lerp, so results agree with np.quantile to the last bit in most cases.
    diff = above - below
    return below + diff * frac if frac < 0.5 else above - diff * (1 - frac)


def quantile_ranks(n: int, probs: tuple[float, ...]) -> list[tuple[int, int, float]]:
    """(lower rank, upper rank, fraction) of each linear quantile of ``n`` values."""
    out = []
    for p in probs:
        position = p * (n - 1)
        lower = int(np.floor(position))
        out.append((lower, min(lower + 1, n - 1), position - lower))
    return out


def _chan(
    n_a: int, mean_a: np.ndarray, m2_a: np.ndarray, n_b: int, mean_b: np.ndarray, m2_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Chan et al.'s pairwise update of (mean, sum of squared deviations)."""
    total = n_a + n_b
    delta = mean_b - mean_a
    return mean_a + delta * (n_b / total), m2_a + m2_b + delta * delta * (n_a * n_b / total)


def _moments(block: np.ndarray, values: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """float64 (mean, sum of squared deviations) of each row, a few rows at a time (they stay in cache)."""
    mean = np.empty(block.shape[0], dtype=np.float64)
    m2 = np.empty_like(mean)
    step = max(1, values // max(1, block.shape[1]))
    for first in range(0, block.shape[0], step):
        rows = slice(first, first + step)
        wide = block[rows].astype(np.float64)
        mean[rows] = wide.mean(axis=1)
        wide -= mean[rows, None]
        m2[rows] = np.einsum("ij,ij->i", wide, wide)
    return mean, m2


@dataclass
class _Job:
    """Ranks of one column still looked for among the values whose keys lie in ``[klo, khi]``."""

    column: int
    ranks: list[int]
    klo: int
    khi: int
    expected: int
    # True once counts proved the ranks lie in the bracket (a bracket made from the sample is a guess).
    proven: bool = False
    keep: bool = False
    # Low-side jobs count the values below their bracket, high-side ones those above (see scan).
    low_side: bool = True
    kept: list[np.ndarray] = field(default_factory=list)

    @property
    def shift(self) -> int:
        return max(0, (self.khi - self.klo).bit_length() - BUCKET_BITS)


@dataclass
class _Layer:
    """At most one job per column, as arrays over the columns, so that a block is scanned at once."""

    slot: np.ndarray  # job slot of each column, -1 for none
    klo: np.ndarray  # uint32 key bounds
    khi: np.ndarray
    shift: np.ndarray
    keep: np.ndarray
    low_side_layer: bool


@dataclass
class BlockScan:
    """What one block contributed to a pass (computed on any thread, merged in block order)."""

    rows: int
    moments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # mean, m2, min, max
    outside: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (layer, values beyond far bound)
    buckets: list[np.ndarray] = field(default_factory=list)  # slot * buckets + bucket, int32
    kept: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (slot, value), by slot


class ColumnStats:
    """mean, population std, min, max and linear quantiles of ``width`` columns over ``rows`` rows.

    Usage, until ``done``: in pass 0 (``sampling``), for every block ``add_sample(block[:, s], first_row)``
    with ``s = sample_slice(first_row, block_rows)`` (only those rows need to exist); in later passes
    ``merge(scan(block, first_row))`` for every column-major block (``block[c]`` holds column c of rows
    ``first_row...``), the same blocks each pass, merged in block order. ``end_pass()`` after each
    pass. ``scan`` may run on several threads at once; everything else on one.
    """

    def __init__(
        self,
        width: int,
        rows: int,
        *,
        name: str,
        probs: tuple[float, ...] = (0.01, 0.99),
        keep_budget: int = KEEP_BUDGET,
    ) -> None:
        if rows <= 0:
            raise InputError(f"no rows to compute statistics of {name} from")
        self.width, self.rows, self.name, self.probs = width, rows, name, probs
        self.keep_budget = keep_budget
        self.passes = 0
        size = min(SAMPLE_MAX, max(SAMPLE_MIN, rows // SAMPLE_FRACTION))
        self.step = max(1, -(-rows // size))
        self.sample: np.ndarray | None = np.empty((width, -(-rows // self.step)), dtype=np.float32)
        self.count = 0
        self.mean = np.zeros(width, dtype=np.float64)
        self.m2 = np.zeros(width, dtype=np.float64)
        self.min = np.full(width, np.inf, dtype=np.float32)
        self.max = np.full(width, -np.inf, dtype=np.float32)
        self.order: dict[tuple[int, int], float] = {}  # (column, rank) -> value
        self.jobs: list[_Job] = []
        self._layers: list[_Layer] = []
        self._low_cut = np.full(width, -np.inf, dtype=np.float32)
        self._high_cut = np.full(width, np.inf, dtype=np.float32)
        self._outside = np.zeros(0, dtype=np.int64)
        self._hist = np.zeros(0, dtype=np.int64)
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self._kept_count = 0
        self._keeping = True

    @property
    def sampling(self) -> bool:
        return self.passes == 0

    @property
    def done(self) -> bool:
        return self.passes > 1 and not self.jobs

    # -- pass 0 (any thread) -----------------------------------------------------------------------

    def sample_slice(self, first_row: int, rows: int) -> slice:
        """The rows of a block starting at global row ``first_row`` that the sample takes."""
        return slice((-first_row) % self.step, rows, self.step)

    def add_sample(self, values: np.ndarray, first_row: int) -> None:
        """``values``: (width, k) column-major, the rows ``sample_slice`` chose from that block."""
        assert self.sample is not None
        first = (first_row + (-first_row) % self.step) // self.step
        self.sample[:, first : first + values.shape[1]] = values
        self.count += values.shape[1]

    # -- later passes (any thread) -----------------------------------------------------------------

    def scan(self, block: np.ndarray, first_row: int) -> BlockScan:
        """Scan a column-major block: ``block[c]`` holds column c's values of rows ``first_row...``."""
        block = np.ascontiguousarray(block, dtype=np.float32).reshape(self.width, -1)
        result = BlockScan(rows=block.shape[1])
        if result.rows == 0:
            return result
        if self.passes == 1:
            result.moments = (*_moments(block), block.min(axis=1), block.max(axis=1))
        # Every value a job needs is at or below its column's low cut (low-side jobs: the bracket and
        # what lies below it) or at or above the high cut (high-side jobs): only those are looked at.
        for low_side, cut in (
            (True, block <= self._low_cut[:, None]),
            (False, block >= self._high_cut[:, None]),
        ):
            flat = np.flatnonzero(cut)
            del cut
            if flat.size:
                self._scan_side(block.ravel()[flat], flat // result.rows, low_side, result)
        return result

    def _scan_side(self, values: np.ndarray, columns: np.ndarray, low_side: bool, result: BlockScan) -> None:
        keys = float_keys(values)
        for number, layer in enumerate(self._layers):
            if layer.low_side_layer is not low_side:
                continue
            slot = layer.slot[columns]
            klo, khi = layer.klo[columns], layer.khi[columns]
            used = slot >= 0
            inside = used & (keys >= klo) & (keys <= khi)
            far = used & ((keys < klo) if low_side else (keys > khi))
            result.outside.append((number, np.bincount(columns[far], minlength=self.width)))
            bucket = (keys[inside] - klo[inside]) >> layer.shift[columns[inside]]
            result.buckets.append((slot[inside] * _BUCKETS + bucket.astype(np.int64)).astype(np.int32))
            keep = inside & layer.keep[columns]
            if keep.any():
                owners = slot[keep]
                order = np.argsort(owners, kind="stable")
                result.kept.append((owners[order], values[keep][order]))

    # -- merging (one thread, block order) ---------------------------------------------------------

    def merge(self, part: BlockScan) -> None:
        if part.rows == 0:
            return
        self.count += part.rows
        if part.moments is not None:
            mean, m2, low, high = part.moments
            if np.isnan(mean).any():
                column = int(np.flatnonzero(np.isnan(mean))[0])
                raise InputError(f"NaN values in {self.name} (dimension {column}): statistics undefined")
            self.mean, self.m2 = _chan(self.count - part.rows, self.mean, self.m2, part.rows, mean, m2)
            np.minimum(self.min, low, out=self.min)
            np.maximum(self.max, high, out=self.max)
        for number, outside in part.outside:
            slot = self._layers[number].slot
            used = slot >= 0
            self._outside[slot[used]] += outside[used]
        for flat in part.buckets:
            self._pending.append(flat)
            self._pending_size += flat.size
        if self._pending_size > 1 << 20:
            self._flush_buckets()
        if self._keeping:
            for owners, values in part.kept:
                bounds = np.flatnonzero(np.diff(owners)) + 1
                heads = owners[np.concatenate(([0], bounds))].tolist()
                for slot, segment in zip(heads, np.split(values, bounds), strict=True):
                    self.jobs[slot].kept.append(segment)
                self._kept_count += values.size
            if self._kept_count > 2 * self.keep_budget:  # the sample misled us: count only, narrow next pass
                self._keeping = False
                for job in self.jobs:
                    job.kept = []

    def _flush_buckets(self) -> None:
        if self._pending:
            self._hist += np.bincount(np.concatenate(self._pending), minlength=self._hist.size)
        self._pending, self._pending_size = [], 0

    # -- between passes ----------------------------------------------------------------------------

    def end_pass(self) -> None:
        if self.sampling:
            assert self.sample is not None
            if self.count != self.sample.shape[1]:
                raise RuntimeError(f"{self.name}: {self.count} sample rows, {self.sample.shape[1]} expected")
            jobs = self._jobs_from_sample()
            self.sample = None
        else:
            if self.count != self.rows:
                raise InputError(f"{self.name}: {self.count} rows seen, {self.rows} expected")
            self._flush_buckets()
            jobs = self._narrow()
        self.passes += 1
        self.count = 0
        self.jobs = self._settle(jobs)
        if self.jobs and self.passes >= MAX_PASSES:  # pragma: no cover - buckets shrink 1024x per pass
            raise RuntimeError(f"{self.name}: quantiles not resolved after {MAX_PASSES} passes")
        self._plan()

    def _jobs_from_sample(self) -> list[_Job]:
        assert self.sample is not None
        n, taken = self.rows, self.sample.shape[1]
        brackets = []
        for lower, upper, _frac in quantile_ranks(n, self.probs):
            p = min(max(lower / n, 1e-9), 1 - 1e-9)
            margin = MARGIN_SIGMAS * np.sqrt(taken * p * (1 - p)) + 2
            first = min(int(np.floor(lower / n * taken - margin)), taken - 1)
            last = max(first, int(np.ceil(upper / n * taken + margin)))
            expected = (min(last, taken - 1) - max(first, 0) + 1) * self.step
            brackets.append((lower, upper, first, last, expected))
        # Only the sample's order statistics at the bracket ends are needed: partition, not sort.
        ends = sorted(
            {f for _, _, f, _, _ in brackets if f > 0}
            | {last for _, _, _, last, _ in brackets if last < taken - 1}
        )
        if ends:
            self.sample.partition(ends, axis=1)  # in place: the sample is not needed afterwards
        keys = float_keys(self.sample[:, ends]) if ends else np.zeros((self.width, 0), dtype=np.uint32)
        at = {index: number for number, index in enumerate(ends)}
        jobs: dict[tuple[int, int, int], _Job] = {}
        for column in range(self.width):
            for lower, upper, first, last, expected in brackets:
                # Open ends reach to -inf / +inf: min and max are only known after the next pass.
                klo = int(keys[column, at[first]]) if first > 0 else _KEY_MIN
                khi = int(keys[column, at[last]]) if last < taken - 1 else _KEY_MAX
                job = jobs.setdefault((column, klo, khi), _Job(column, [], klo, khi, expected))
                job.ranks.extend(r for r in (lower, upper) if r not in job.ranks)
        return list(jobs.values())

    def _narrow(self) -> list[_Job]:
        lowest = float_keys(self.min).astype(np.int64)
        highest = float_keys(self.max).astype(np.int64)
        following: dict[tuple[int, int, int], _Job] = {}
        for slot, job in enumerate(self.jobs):
            hist = self._hist[slot * _BUCKETS : (slot + 1) * _BUCKETS]
            inside = int(hist.sum())
            outside = int(self._outside[slot])
            below = outside if job.low_side else self.rows - inside - outside
            locals_ = [rank - below for rank in job.ranks]
            values = np.concatenate(job.kept) if job.keep and self._keeping and job.kept else None
            job.kept = []
            if values is not None and values.size == inside:
                wanted = sorted({r for r in locals_ if 0 <= r < inside})
                part = np.partition(values, wanted) if wanted else values
                for rank, local in zip(job.ranks, locals_, strict=True):
                    if 0 <= local < inside:
                        self.order[(job.column, rank)] = float(part[local])
            for rank, local in zip(job.ranks, locals_, strict=True):
                if (job.column, rank) in self.order:
                    continue
                proven = False
                if local < 0:  # the sample misjudged the bracket: what lies below it is the new one
                    klo, khi, expected = int(lowest[job.column]), job.klo - 1, below
                elif local >= inside:
                    klo, khi = job.khi + 1, int(highest[job.column])
                    expected = self.rows - below - inside
                else:
                    bucket = int(np.searchsorted(np.cumsum(hist), local, side="right"))
                    klo = job.klo + (bucket << job.shift)
                    khi = min(job.khi, klo + (1 << job.shift) - 1)
                    expected, proven = int(hist[bucket]), True
                key = (job.column, klo, khi)
                following.setdefault(key, _Job(job.column, [], klo, khi, expected, proven)).ranks.append(rank)
        self._kept_count, self._keeping = 0, True
        return list(following.values())

    def _settle(self, jobs: list[_Job]) -> list[_Job]:
        """Answer proven brackets of one value at once; choose which brackets keep their values."""
        open_jobs = []
        for job in jobs:
            if job.proven and job.klo == job.khi:
                for rank in job.ranks:
                    self.order[(job.column, rank)] = _key_float(job.klo)
            else:
                job.low_side = max(job.ranks) < self.rows / 2
                open_jobs.append(job)
        budget = self.keep_budget
        for job in sorted(open_jobs, key=lambda j: j.expected):
            # A bracket of one key needs counting only.
            job.keep = job.klo != job.khi and job.expected <= min(KEEP_PER_RANK, budget)
            budget -= job.expected if job.keep else 0
        return open_jobs

    def _plan(self) -> None:
        if len(self.jobs) >= 1 << 20:  # pragma: no cover - a few jobs per wanted rank
            raise RuntimeError(f"{self.name}: too many open brackets")
        self._layers = []
        self._outside = np.zeros(len(self.jobs), dtype=np.int64)
        self._hist = np.zeros(len(self.jobs) * _BUCKETS, dtype=np.int64)
        self._low_cut = np.full(self.width, -np.inf, dtype=np.float32)
        self._high_cut = np.full(self.width, np.inf, dtype=np.float32)
        for low_side in (True, False):
            per_column: dict[int, list[int]] = {}
            for slot, job in enumerate(self.jobs):
                if job.low_side is not low_side:
                    continue
                per_column.setdefault(job.column, []).append(slot)
                if low_side:
                    self._low_cut[job.column] = max(self._low_cut[job.column], _key_float(job.khi))
                else:
                    self._high_cut[job.column] = min(self._high_cut[job.column], _key_float(job.klo))
            for depth in range(max((len(s) for s in per_column.values()), default=0)):
                layer = _Layer(
                    slot=np.full(self.width, -1, dtype=np.int64),
                    klo=np.zeros(self.width, dtype=np.uint32),
                    khi=np.zeros(self.width, dtype=np.uint32),
                    shift=np.zeros(self.width, dtype=np.uint32),
                    keep=np.zeros(self.width, dtype=bool),
                    low_side_layer=low_side,
                )
                for column, slots in per_column.items():
                    if depth < len(slots):
                        job = self.jobs[slots[depth]]
                        layer.slot[column], layer.keep[column] = slots[depth], job.keep
                        layer.klo[column], layer.khi[column], layer.shift[column] = (
                            job.klo,
                            job.khi,
                            job.shift,
                        )
                self._layers.append(layer)

    # -- results -----------------------------------------------------------------------------------

    def result(self) -> dict[str, list[float]]:
        if not self.done:
            raise RuntimeError(f"{self.name}: statistics asked for before the last pass")
        out = {
            "mean": self.mean.tolist(),
            "std": np.sqrt(self.m2 / self.rows).tolist(),
            "min": self.min.astype(np.float64).tolist(),
            "max": self.max.astype(np.float64).tolist(),
        }
        for p, (lower, upper, frac) in zip(self.probs, quantile_ranks(self.rows, self.probs), strict=True):
            out[f"q{round(p * 100):02d}"] = [
                _lerp(self.order[(c, lower)], self.order[(c, upper)], frac) for c in range(self.width)
            ]
        return out


def column_stats(values: np.ndarray, *, probs: tuple[float, ...] = (0.01, 0.99)) -> dict[str, list[float]]:
    """Stats of each column of a (rows, width) array held in memory (small inputs, tests)."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim == 1:
        values = values[:, None]
    stats = ColumnStats(values.shape[1], values.shape[0], name="values", probs=probs)
    columns = np.ascontiguousarray(values.T)
    while not stats.done:
        if stats.sampling:
            stats.add_sample(columns[:, stats.sample_slice(0, columns.shape[1])], 0)
        else:
            stats.merge(stats.scan(columns, 0))
        stats.end_pass()
    return stats.result()

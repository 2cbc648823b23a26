"""``meta/stats.json`` and ``meta/relative_stats.json``: GR00T n1.6.1 semantics, exact, in bounded memory.

Definitions (contract section 4): every float feature over all rows, cast to float32: mean, population
std, min, max and linear-interpolated 1%/99% quantiles per dimension. Relative stats for each RELATIVE
action key (:mod:`groot_ops.data.relative`: UNITREE_G1's ``left_arm``/``right_arm`` over 30 steps, or a
NEW_EMBODIMENT modality config's keys and horizon H): every chunk ``action[t:t+H] - state[t]`` of every
episode (t in 0..length-H), stats over chunks per (step, dimension).

Memory does not grow with the data: episodes are read one at a time (a few in flight on the worker
threads), each pass feeding :class:`groot_ops.data.exact_stats.ColumnStats`, which narrows every wanted
order statistic down over two or three passes instead of holding all values. A relative chunk block
exists for one episode at a time, as (chunks, 7 x 30).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from groot_ops.atomic import write_bytes
from groot_ops.data import schema
from groot_ops.data.exact_stats import BlockScan, ColumnStats, column_stats
from groot_ops.data.fingerprint import (
    read_record,
    stats_json_bytes,
    stats_problems,
    stats_record,
    write_record,
)
from groot_ops.data.rawread import column_matrix, feature_width, read_jsonl, read_parquet
from groot_ops.data.relative import RelativeGroup, RelativeSpec, unitree_g1_spec
from groot_ops.errors import GrootOpsError, InputError

# Values kept per pass across all accumulators (6 bytes each); shared out by column count.
KEEP_BUDGET = 12 << 20
# Rows per scanned block: large enough to amortise numpy's per-call cost, small enough for the caches.
BATCH_ROWS = 4096


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def quantiles(row: np.ndarray, probs: tuple[float, ...]) -> list[float]:
    """numpy's default ("linear") quantiles of a 1-D array."""
    found = column_stats(np.asarray(row).reshape(-1, 1), probs=probs)
    return [found[f"q{round(p * 100):02d}"][0] for p in probs]


@dataclass(frozen=True)
class _Episode:
    index: int
    length: int
    path: Path
    first_row: int
    first_chunk: int


@dataclass(frozen=True)
class _Plan:
    root: Path
    features: dict[str, int]  # float feature -> width
    episodes: list[_Episode]
    groups: dict[str, RelativeGroup]  # RELATIVE action key -> its state and action slices
    horizon: int

    @property
    def frames(self) -> int:
        return sum(e.length for e in self.episodes)

    @property
    def chunks(self) -> int:
        return sum(max(0, e.length - self.horizon + 1) for e in self.episodes)


def _plan(root: Path, spec: RelativeSpec) -> _Plan:
    info_path = root / "meta/info.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read info.json: {exc}", path=str(info_path)) from exc
    features = {name: feature_width(info["features"][name]) for name in schema.float_features(info)}
    if spec.config is None and (schema.STATE_KEY not in features or schema.ACTION_KEY not in features):
        raise InputError(
            "observation.state and action must be float features for relative stats", path=str(info_path)
        )
    for group in spec.groups:
        for column, part in ((group.state_column, group.state), (group.action_column, group.action)):
            if column not in features:
                raise InputError(
                    f"relative stats of {group.name} need float feature {column}", path=str(info_path)
                )
            if part.start < 0 or part.stop > features[column] or part.stop <= part.start:
                raise InputError(
                    f"{group.name} spans {part.start}..{part.stop} of {column}, {features[column]} wide",
                    path=str(root / "meta/modality.json"),
                    column=column,
                )
    horizon = spec.horizon
    chunks_size = int(info.get("chunks_size", schema.CHUNKS_SIZE))
    episodes, rows, chunks = [], 0, 0
    for line in read_jsonl(root / "meta/episodes.jsonl"):
        index, length = int(line["episode_index"]), int(line["length"])
        chunk = index // chunks_size
        fmt = {"episode_chunk": chunk, "episode_index": index, "chunk_index": chunk}
        episodes.append(_Episode(index, length, root / info["data_path"].format(**fmt), rows, chunks))
        rows += length
        chunks += max(0, length - horizon + 1)
    if not episodes:
        raise InputError("episodes.jsonl lists no episodes", path=str(root / "meta/episodes.jsonl"))
    plan = _Plan(root, features, episodes, {g.name: g for g in spec.groups}, horizon)
    if plan.groups and plan.chunks == 0:
        raise InputError(f"no episode is at least {horizon} frames long: relative stats undefined")
    return plan


def _relative_block(
    state: np.ndarray,
    action: np.ndarray,
    group: RelativeGroup,
    horizon: int,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Column-major chunks of one episode: row ``step * dims + d`` is ``action[d, t + step] - state[d, t]``.

    ``state`` and ``action`` are column-major too ((dims, frames)), so every step is one subtraction of
    contiguous rows.
    """
    state_slice, action_slice = group.state, group.action
    chunks = max(0, state.shape[1] - horizon + 1)
    dims = action_slice.stop - action_slice.start
    block = np.empty((horizon * dims, chunks), dtype=np.float32) if out is None else out
    if chunks:
        base = state[state_slice, :chunks]
        for step in range(horizon):
            np.subtract(
                action[action_slice, step : step + chunks], base, out=block[step * dims : (step + 1) * dims]
            )
    return block


@dataclass(frozen=True)
class _Batch:
    """Consecutive episodes scanned as one block per accumulator (fewer, larger numpy operations)."""

    episodes: tuple[_Episode, ...]

    @property
    def first_row(self) -> int:
        return self.episodes[0].first_row

    @property
    def first_chunk(self) -> int:
        return self.episodes[0].first_chunk


def _batches(episodes: list[_Episode], rows: int = BATCH_ROWS) -> list[_Batch]:
    out: list[_Batch] = []
    current: list[_Episode] = []
    size = 0
    for episode in episodes:
        current.append(episode)
        size += episode.length
        if size >= rows:
            out.append(_Batch(tuple(current)))
            current, size = [], 0
    if current:
        out.append(_Batch(tuple(current)))
    return out


class _Passes:
    """Every accumulator fed from the same batches, pass after pass, until all are resolved.

    The first pass decodes the parquet files and writes the float features, column-major, to an
    unnamed scratch file next to the dataset (``O_TMPFILE``: gone when closed, even after a crash);
    later passes read that back at memory speed instead of decoding parquet again. Resident memory
    holds only the batches in flight.
    """

    def __init__(self, plan: _Plan, scratch: Any) -> None:
        self.plan = plan
        self.batches = _batches(plan.episodes)
        self.scratch = scratch.fileno()
        self.row_bytes = 4 * sum(plan.features.values())
        total_columns = (
            sum(plan.features.values()) + sum(g.width for g in plan.groups.values()) * plan.horizon
        )

        def budget(width: int) -> int:
            return max(1 << 12, KEEP_BUDGET * width // total_columns)

        self.features = {
            name: ColumnStats(width, plan.frames, name=name, keep_budget=budget(width))
            for name, width in plan.features.items()
        }
        self.relative = {}
        for name, group in plan.groups.items():
            width = group.width * plan.horizon
            self.relative[name] = ColumnStats(
                width, plan.chunks, name=f"relative {name}", keep_budget=budget(width)
            )
        self._decoded = False

    def pending(self) -> list[tuple[str, ColumnStats]]:
        both = [*self.features.items(), *(("rel:" + k, v) for k, v in self.relative.items())]
        return [(name, acc) for name, acc in both if not acc.done]

    def _split(self, flat: np.ndarray, rows: int) -> dict[str, np.ndarray]:
        out, start = {}, 0
        for name, width in self.plan.features.items():
            out[name] = flat[start : start + width * rows].reshape(width, rows)
            start += width * rows
        return out

    def _matrices(self, batch: _Batch) -> dict[str, np.ndarray]:
        """(width, rows) float32 of every float feature over the batch's episodes."""
        rows = sum(e.length for e in batch.episodes)
        offset = batch.first_row * self.row_bytes
        if self._decoded:
            data = os.pread(self.scratch, rows * self.row_bytes, offset)
            return self._split(np.frombuffer(data, dtype=np.float32), rows)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.plan.features}
        for episode in batch.episodes:
            table = read_parquet(episode.path, columns=list(self.plan.features), episode=episode.index)
            if table.num_rows != episode.length:
                raise InputError(
                    f"{table.num_rows} rows but episodes.jsonl says length {episode.length}",
                    path=str(episode.path),
                    episode=episode.index,
                )
            for name, width in self.plan.features.items():
                parts[name].append(
                    column_matrix(table, name, width, path=episode.path, episode=episode.index)
                )
        flat = np.empty(rows * self.row_bytes // 4, dtype=np.float32)
        matrices = self._split(flat, rows)
        for name, blocks in parts.items():
            matrices[name][...] = np.concatenate(blocks).T
        try:
            os.pwrite(self.scratch, flat.data, offset)
        except OSError as exc:  # a full disk: say what needed the room, not only errno
            need = self.plan.frames * self.row_bytes / 2**20
            raise GrootOpsError(
                f"cannot write the stats scratch file ({need:.0f} MB, freed when stats finish) next to "
                f"{self.plan.root / 'meta'}: {exc}"
            ) from exc
        return matrices

    def _relative(self, batch: _Batch, matrices: dict[str, np.ndarray], group: RelativeGroup) -> np.ndarray:
        horizon = self.plan.horizon
        dims = group.width
        chunks = [max(0, e.length - horizon + 1) for e in batch.episodes]
        out = np.empty((horizon * dims, sum(chunks)), dtype=np.float32)
        row = chunk = 0
        for episode, count in zip(batch.episodes, chunks, strict=True):
            rows = slice(row, row + episode.length)
            _relative_block(
                matrices[group.state_column][:, rows],
                matrices[group.action_column][:, rows],
                group,
                horizon,
                out=out[:, chunk : chunk + count],
            )
            row += episode.length
            chunk += count
        return out

    def _chunk_rows(self, batch: _Batch) -> np.ndarray:
        """Batch-local row of every relative chunk's start, in chunk order."""
        rows, offset = [], 0
        for episode in batch.episodes:
            rows.append(np.arange(offset, offset + max(0, episode.length - self.plan.horizon + 1)))
            offset += episode.length
        return np.concatenate(rows)

    def _relative_sample(
        self, batch: _Batch, matrices: dict[str, np.ndarray], acc: ColumnStats, group: RelativeGroup
    ) -> np.ndarray:
        """Only the chunks the sample takes, built directly (pass 0 never builds whole blocks)."""
        chunk_rows = self._chunk_rows(batch)
        starts = chunk_rows[acc.sample_slice(batch.first_chunk, chunk_rows.size)]
        steps = np.arange(self.plan.horizon)[:, None] + starts[None, :]
        arm = matrices[group.action_column][group.action][:, steps]  # (dims, horizon, k)
        base = matrices[group.state_column][group.state][:, starts]  # (dims, k)
        return (arm - base[:, None, :]).transpose(1, 0, 2).reshape(-1, starts.size)

    def scan_batch(self, number: int, active: list[tuple[str, ColumnStats]]) -> list[Any]:
        """Pass 0: the sampled rows of each accumulator; later passes: its BlockScan."""
        batch = self.batches[number]
        matrices = self._matrices(batch)
        out: list[Any] = []
        for name, acc in active:
            group = self.plan.groups.get(name.removeprefix("rel:")) if name.startswith("rel:") else None
            if acc.sampling:
                if group is None:
                    out.append(matrices[name][:, acc.sample_slice(batch.first_row, matrices[name].shape[1])])
                else:
                    out.append(self._relative_sample(batch, matrices, acc, group))
            elif group is None:
                out.append(acc.scan(matrices[name], batch.first_row))
            else:
                out.append(acc.scan(self._relative(batch, matrices, group), batch.first_chunk))
        return out

    def run(self) -> None:
        with ThreadPoolExecutor(workers()) as pool, _system_allocator():
            while active := self.pending():
                # Bounded look-ahead, merged in batch order: memory stays flat, sums stay deterministic.
                window: deque[tuple[_Batch, Future[list[Any]]]] = deque()
                for number, batch in enumerate(self.batches):
                    window.append((batch, pool.submit(self.scan_batch, number, active)))
                    if len(window) > workers():
                        self._merge(active, *window.popleft())
                while window:
                    self._merge(active, *window.popleft())
                for _name, acc in active:
                    acc.end_pass()
                self._decoded = True

    @staticmethod
    def _merge(active: list[tuple[str, ColumnStats]], batch: _Batch, future: Future[list[Any]]) -> None:
        for (name, acc), part in zip(active, future.result(), strict=True):
            if isinstance(part, BlockScan):
                acc.merge(part)
            else:
                acc.add_sample(part, batch.first_chunk if name.startswith("rel:") else batch.first_row)

    def results(self) -> tuple[dict[str, Any], dict[str, Any]]:
        stats = {name: acc.result() for name, acc in self.features.items()}
        relative: dict[str, Any] = {}
        for name in sorted(self.relative):
            found = self.relative[name].result()
            relative[name] = {
                key: np.asarray(found[key]).reshape(self.plan.horizon, -1).tolist()
                for key in ("max", "min", "q01", "q99", "mean", "std")
            }
        return stats, relative


@contextmanager
def _system_allocator() -> Iterator[None]:
    """Arrow's default mimalloc pool keeps ~45 MB of freed pages here; the system pool gives them back."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def dataset_stats(
    root: Path, horizon: int = schema.ACTION_HORIZON, *, relative: RelativeSpec | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stats.json content, relative_stats.json content) of a GR00T dataset, without writing them.

    ``relative``: the RELATIVE action keys (:mod:`groot_ops.data.relative`); UNITREE_G1's by default.
    """
    return _dataset_stats(root, _plan(root, relative or unitree_g1_spec(root, horizon)))


def _dataset_stats(root: Path, plan: _Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    # Next to the dataset: the disk that holds it has room for a copy of its float columns.
    with tempfile.TemporaryFile(dir=root / "meta", prefix=".stats-scratch-") as scratch:
        passes = _Passes(plan, scratch)
        passes.run()
        return passes.results()


def compute_stats(
    dataset_dir: str | os.PathLike[str],
    *,
    check: bool = False,
    force: bool = False,
    horizon: int = schema.ACTION_HORIZON,
    relative: RelativeSpec | None = None,
) -> dict[str, Any]:
    """Write fresh stats unless the recorded ones already belong to the current data.

    ``relative``: the RELATIVE action keys and horizon (:func:`groot_ops.data.relative.config_spec` for a
    NEW_EMBODIMENT modality config); without it UNITREE_G1's arms over ``horizon`` steps.
    """
    root = Path(dataset_dir)
    if not (root / "meta/info.json").is_file():
        raise InputError("not a dataset: meta/info.json missing", path=str(root / "meta/info.json"))
    if relative is not None:
        horizon = relative.horizon
    spec_record = relative.record() if relative is not None else None
    problems = stats_problems(root, horizon=horizon, relative=spec_record)
    fresh_before = not problems
    record = read_record(root)
    if fresh_before and not force:
        return {
            "changed": False,
            "fresh_before": True,
            "fingerprint": record["stats"]["fingerprint"],
            "frames": None,
            "diff": {},
        }
    diff = {
        "before": {"stats": "fresh" if fresh_before else "; ".join(problems)},
        "after": {"stats": "fresh"},
    }
    if check:
        return {
            "changed": True,
            "fresh_before": fresh_before,
            "fingerprint": None,
            "frames": None,
            "diff": diff,
        }
    plan = _plan(root, relative or unitree_g1_spec(root, horizon))
    stats, rel = _dataset_stats(root, plan)
    write_bytes(root / "meta/stats.json", stats_json_bytes(stats))
    write_bytes(root / "meta/relative_stats.json", stats_json_bytes(rel))
    new = stats_record(root, horizon=horizon, relative=spec_record)
    write_record(root, {**read_record(root), "stats": new})
    return {
        "changed": True,
        "fresh_before": fresh_before,
        "fingerprint": new["fingerprint"],
        "frames": plan.frames,
        "diff": diff,
    }

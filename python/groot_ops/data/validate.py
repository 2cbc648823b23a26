"""Everything the GR00T n1.6.1 loader would reject, found before any GPU time is spent.

Every check runs and every problem is reported (file, column, episode), not only the first one.
UNITREE_G1 datasets are held to that embodiment's widths and groups (:mod:`groot_ops.data.schema`); any other
tag (NEW_EMBODIMENT) to the rules every GR00T-layout dataset must meet (each modality.json group inside a
float feature of info.json, each video key's feature and files) plus the recipe's modality config checked
against ``meta/modality.json`` (:mod:`groot_ops.train.modality_config`) and relative stats for its RELATIVE
keys (:mod:`groot_ops.data.relative`). Video frame counts and timing (presentation times strictly
increasing on the 1/fps grid, duration = frames / fps) come from the MP4 box tree, so validating a
310k-frame dataset decodes nothing.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from groot_ops.data import schema
from groot_ops.data.convert import workers
from groot_ops.data.fingerprint import stats_problems
from groot_ops.data.rawread import column_matrix, feature_width, read_jsonl
from groot_ops.errors import GrootOpsError, InputError

if TYPE_CHECKING:
    from groot_ops.data.relative import RelativeSpec
    from groot_ops.train.modality_config import ModalityConfigFile

REQUIRED_INFO = ("data_path", "chunks_size", "video_path", "features")
STAT_KEYS = ("mean", "std", "min", "max", "q01", "q99")


def _problem(
    message: str, path: Path | str | None = None, column: str | None = None, episode: int | None = None
) -> dict[str, Any]:
    return {"message": message, "path": str(path) if path else None, "column": column, "episode": episode}


class _Validator:
    def __init__(self, root: Path, config: ModalityConfigFile | None = None) -> None:
        self.root = root
        # None: UNITREE_G1's fixed layout; else the NEW_EMBODIMENT modality config the dataset must match.
        self.config = config
        self.problems: list[dict[str, Any]] = []
        self.info: dict[str, Any] = {}
        self.modality: dict[str, Any] = {}
        self.frames = 0
        self.episodes = 0

    @property
    def generic(self) -> bool:
        return self.config is not None

    def video_columns(self) -> list[str]:
        """The video features whose files every episode must have."""
        if not self.generic:
            return [schema.EGO_VIDEO_KEY] if schema.EGO_VIDEO_KEY in self.info.get("features", {}) else []
        features = self.info.get("features", {})
        videos = self.modality.get("video") if isinstance(self.modality.get("video"), dict) else {}
        columns = [
            str((group or {}).get("original_key") or f"observation.images.{key}")
            for key, group in videos.items()
        ]
        return [c for c in dict.fromkeys(columns) if c in features]

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.problems.append(_problem(*args, **kwargs))

    def load_json(self, rel: str) -> Any:
        path = self.root / rel
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            self.add("missing file", path)
        except ValueError as exc:
            self.add(f"invalid JSON: {exc}", path)
        return None

    def check_info(self) -> bool:
        info = self.load_json("meta/info.json")
        if not isinstance(info, dict):
            return False
        self.info = info
        path = self.root / "meta/info.json"
        for key in REQUIRED_INFO:
            if key not in info:
                self.add(f"info.json lacks required key {key!r}", path)
        features = info.get("features", {})
        if self.generic:
            return "data_path" in info and "features" in info
        for key, width in ((schema.STATE_KEY, schema.STATE_DIM), (schema.ACTION_KEY, schema.ACTION_DIM)):
            if key not in features:
                self.add("feature missing from info.json", path, key)
            elif feature_width(features[key]) != width:
                self.add(
                    f"feature declares width {feature_width(features[key])}, expected {width}", path, key
                )
        if schema.EGO_VIDEO_KEY not in features:
            self.add(
                "video feature missing from info.json (the loader looks it up by this key)",
                path,
                schema.EGO_VIDEO_KEY,
            )
        return "data_path" in info and "features" in info

    def check_modality(self) -> None:
        modality = self.load_json("meta/modality.json")
        if not isinstance(modality, dict):
            return
        self.modality = modality
        if self.generic:
            self.check_modality_generic()
            return
        expected = schema.modality_json()
        path = self.root / "meta/modality.json"
        for section in ("state", "action"):
            got = {
                name: {"start": g.get("start"), "end": g.get("end")}
                for name, g in (modality.get(section) or {}).items()
                if isinstance(g, dict)
            }
            if got != expected[section]:
                self.add(f"{section} groups differ from the UNITREE_G1 embodiment: {got}", path, section)
        ego = (modality.get("video") or {}).get("ego_view") or {}
        if ego.get("original_key") != schema.EGO_VIDEO_KEY:
            self.add("video.ego_view.original_key must be observation.images.ego_view", path, "video")
        annotation = (modality.get("annotation") or {}).get("human.task_description") or {}
        if annotation.get("original_key") != "task_index":
            self.add("annotation.human.task_description.original_key must be task_index", path, "annotation")

    def check_modality_generic(self) -> None:
        """Rules of every GR00T-layout dataset, then the recipe's modality config against modality.json."""
        from groot_ops.data.relative import DEFAULT_COLUMNS
        from groot_ops.train.modality_config import check_against_dataset

        path = self.root / "meta/modality.json"
        features = self.info.get("features", {})
        for section in ("state", "action"):
            groups = self.modality.get(section)
            if not isinstance(groups, dict) or not groups:
                self.add(f"modality.json has no {section} groups", path, section)
                continue
            for name, group in groups.items():
                try:
                    start, end = int(group["start"]), int(group["end"])
                except (KeyError, TypeError, ValueError):
                    self.add(f"{section} group {name} lacks integer start/end", path, f"{section}.{name}")
                    continue
                column = str(group.get("original_key") or DEFAULT_COLUMNS[section])
                feature = features.get(column)
                if not isinstance(feature, dict) or "float" not in str(feature.get("dtype", "")):
                    if self.info:
                        self.add(
                            f"{section} group {name} reads column {column}, not a float feature of info.json",
                            path,
                            f"{section}.{name}",
                        )
                    continue
                width = feature_width(feature)
                if not 0 <= start < end <= width:
                    self.add(
                        f"{section} group {name} spans {start}..{end} of {column}, {width} wide",
                        path,
                        f"{section}.{name}",
                    )
        videos = self.modality.get("video") if isinstance(self.modality.get("video"), dict) else {}
        for key, group in videos.items():
            column = str((group or {}).get("original_key") or f"observation.images.{key}")
            if self.info and column not in features:
                # lerobot_episode_loader.py _load_video_data: the original key must be an info.json feature.
                self.add(f"video {key} reads {column}, not a feature of info.json", path, f"video.{key}")
        assert self.config is not None
        for message in check_against_dataset(
            self.config, self.root, embodiment_tag=self.config.embodiment_tag
        ):
            self.add(message, self.config.path)

    def check_episodes(self) -> None:
        try:
            episodes = read_jsonl(self.root / "meta/episodes.jsonl")
            tasks = {int(r["task_index"]) for r in read_jsonl(self.root / "meta/tasks.jsonl")}
        except InputError as exc:
            self.add(str(exc), exc.path)
            return
        except (KeyError, TypeError, ValueError) as exc:
            self.add(f"tasks.jsonl rows need task_index and task: {exc}", self.root / "meta/tasks.jsonl")
            return
        self.episodes = len(episodes)
        if self.info.get("total_episodes") not in (None, len(episodes)):
            self.add(
                f"total_episodes {self.info['total_episodes']} but episodes.jsonl lists {len(episodes)}",
                self.root / "meta/info.json",
            )
        float_names = schema.float_features(self.info)
        chunks_size = int(self.info.get("chunks_size", schema.CHUNKS_SIZE))

        def one(row: dict[str, Any]) -> list[dict[str, Any]]:
            return self.check_episode(row, tasks, float_names, chunks_size)

        with ThreadPoolExecutor(workers()) as pool:
            for found in pool.map(one, episodes):
                self.problems.extend(found)
        total = sum(int(r.get("length", 0)) for r in episodes)
        self.frames = total
        if self.info.get("total_frames") not in (None, total):
            self.add(
                f"total_frames {self.info['total_frames']} but episodes add up to {total}",
                self.root / "meta/info.json",
            )

    def check_episode(
        self, row: dict[str, Any], tasks: set[int], float_names: list[str], chunks_size: int
    ) -> list[dict[str, Any]]:
        from groot_ops.data.video import frame_count, timing_problems

        found: list[dict[str, Any]] = []
        meta = self.root / "meta/episodes.jsonl"
        if "episode_index" not in row or "length" not in row:
            return [_problem("episode line lacks episode_index or length", meta)]
        index, length = int(row["episode_index"]), int(row["length"])
        chunk = index // chunks_size
        fmt = {"episode_chunk": chunk, "episode_index": index}
        path = self.root / self.info["data_path"].format(**fmt)
        try:
            table = pq.read_table(path)
        except FileNotFoundError:
            found.append(_problem("parquet file missing", path, episode=index))
            table = None
        except (pa.ArrowException, OSError) as exc:
            found.append(_problem(f"unreadable parquet: {exc}", path, episode=index))
            table = None
        if table is not None:
            if table.num_rows != length:
                found.append(
                    _problem(
                        f"{table.num_rows} rows but episodes.jsonl says length {length}", path, episode=index
                    )
                )
            for name in float_names:
                width = feature_width(self.info["features"][name])
                try:
                    column_matrix(table, name, width, path=path, episode=index)
                except InputError as exc:
                    found.append(_problem(str(exc), path, name, index))
            for name in ("task_index", "episode_index", "index", "frame_index"):
                if name not in table.column_names:
                    found.append(_problem("column missing", path, name, index))
                elif not pa.types.is_integer(table.schema.field(name).type):
                    # The loader looks task_index up in tasks.jsonl as an integer.
                    kind = table.schema.field(name).type
                    found.append(_problem(f"column is {kind}, must be int64", path, name, index))
            if "task_index" in table.column_names:
                used = set(np.unique(table.column("task_index").to_numpy()).tolist())
                for value in sorted(used - tasks):
                    found.append(
                        _problem(f"task_index {value} not in tasks.jsonl", path, "task_index", index)
                    )
            if "episode_index" in table.column_names:
                values = set(np.unique(table.column("episode_index").to_numpy()).tolist())
                if values != {index}:
                    found.append(
                        _problem(
                            f"episode_index values {sorted(values)[:3]} != {index}",
                            path,
                            "episode_index",
                            index,
                        )
                    )
        video_template = self.info.get("video_path")
        for video_key in self.video_columns() if video_template else ():
            video = self.root / video_template.format(video_key=video_key, **fmt)
            if not video.is_file():
                found.append(_problem("video file missing", video, video_key, index))
                continue
            try:
                frames, method = frame_count(video)
                if frames != length:
                    found.append(
                        _problem(
                            f"video has {frames} frames but the episode has {length} rows",
                            video,
                            video_key,
                            index,
                        )
                    )
                elif method == "mp4-boxes":
                    fps = float(self.info.get("fps", 30))
                    for message in timing_problems(video, frames=length, fps=fps):
                        found.append(_problem(message, video, video_key, index))
            except InputError as exc:
                found.append(_problem(str(exc), video, video_key, index))
        return found

    def check_stats(self) -> None:
        stats = self.load_json("meta/stats.json")
        rel = self.load_json("meta/relative_stats.json")
        if isinstance(stats, dict):
            path = self.root / "meta/stats.json"
            for name in schema.float_features(self.info):
                width = feature_width(self.info["features"][name])
                entry = stats.get(name)
                if not isinstance(entry, dict):
                    self.add("stats missing for float feature", path, name)
                    continue
                for key in STAT_KEYS:
                    values = entry.get(key)
                    if not isinstance(values, list) or len(values) != width:
                        self.add(f"stats {key!r} missing or not {width} values", path, name)
        spec = self.relative_spec()
        if isinstance(rel, dict) and spec is not None:
            path = self.root / "meta/relative_stats.json"
            for group in spec.groups:
                entry = rel.get(group.name)
                if not isinstance(entry, dict):
                    self.add("relative stats missing for group", path, group.name)
                    continue
                expected = (spec.horizon, group.width)
                for key in STAT_KEYS:
                    shape = np.shape(entry.get(key)) if entry.get(key) is not None else None
                    if shape != expected:
                        self.add(
                            f"relative stats {key!r} shape {shape}, expected {expected}", path, group.name
                        )
            if spec.config is not None:
                # Upstream skips every key the file already holds: a stale extra key would be trained with.
                for name in sorted(set(rel) - {g.name for g in spec.groups}):
                    self.add(f"relative stats for {name}, not a RELATIVE key of {spec.config}", path, name)
        if isinstance(stats, dict) and isinstance(rel, dict) and spec is not None:
            record = spec.record()
            for message in stats_problems(self.root, horizon=spec.horizon, relative=record):
                self.add(f"stale stats: {message}", self.root / "meta/groot_ops.json")

    def relative_spec(self) -> RelativeSpec | None:
        from groot_ops.data.relative import config_spec

        if self.config is None:
            from groot_ops.data.relative import UNITREE_G1_SPEC

            # UNITREE_G1's fixed groups (the modality.json check above holds it to them).
            return UNITREE_G1_SPEC
        try:
            return config_spec(self.config, self.root)
        except GrootOpsError as exc:
            self.add(f"relative stats: {exc}", self.config.path)
            return None


def validate_dataset(
    dataset_dir: str | os.PathLike[str],
    *,
    stats: bool = True,
    modality_config: ModalityConfigFile | str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """``{"ok", "problems": [{"message", "path", "column", "episode"}], "episodes", "frames"}``.

    ``stats=False`` checks the data alone (a GR00T-layout download before its stats are recomputed).
    ``modality_config``: a NEW_EMBODIMENT dataset's modality config (parsed, or its file): the generic
    GR00T-layout rules and that config against ``meta/modality.json`` instead of the UNITREE_G1 layout.
    """
    config = modality_config
    if config is not None and not hasattr(config, "modalities"):
        from groot_ops.train.modality_config import parse_modality_config

        config = parse_modality_config(config)  # type: ignore[arg-type]
    validator = _Validator(Path(dataset_dir), config)  # type: ignore[arg-type]
    if validator.check_info():
        validator.check_modality()
        validator.check_episodes()
        if stats:
            validator.check_stats()
    else:
        validator.check_modality()
    return {
        "ok": not validator.problems,
        "changed": False,
        "problems": validator.problems,
        "episodes": validator.episodes,
        "frames": validator.frames,
    }

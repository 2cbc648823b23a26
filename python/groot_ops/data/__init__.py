"""The data engine: raw Unitree G1 datasets -> GR00T ``UNITREE_G1`` datasets, merged, with fresh stats.

Entry points (all return JSON-able dicts with ``changed`` and take ``check=``):
``convert.convert_dataset``, ``merge.merge_datasets``, ``stats.compute_stats``,
``validate.validate_dataset`` (returns ``ok``/``problems``), ``synth.synth_raw_dataset``,
``fingerprint.dataset_fingerprint`` and ``fingerprint.stats_are_fresh``.

``meta/groot_ops.json`` (written by convert and merge, updated by stats; schema 1)::

    {
      "schema": 1,
      "data_fingerprint": "<sha256>",      # dataset_fingerprint() of the output when it was written
      "convert": {                         # present on converted datasets
        "kind": "convert",
        "source": "/abs/path/of/raw",
        "source_version": "v2.1" | "v3.0",
        "source_fingerprint": "<sha256>",  # raw meta + parquet content, ego videos by size+mtime
        "options": {"ego_camera": "cam_left_high", "source_camera": "observation.images.cam_left_high",
                    "video_cut": 2},             # v3.0 only: cut version (2: frame n at pts n/fps)
        "groot_ops_version": "0.1.0"
      },
      "merge": {                           # present on merged datasets
        "kind": "merge",
        "inputs": [{"path": "/abs/input", "fingerprint": "<dataset_fingerprint of that input>"}],
        "groot_ops_version": "0.1.0"
      },
      "stats": {                           # present once stats were computed
        "fingerprint": "<sha256>",         # dataset_fingerprint() the stats were computed from
        "horizon": 30,
        "algorithm": 2,
        "files": {"meta/stats.json": "<sha256>", "meta/relative_stats.json": "<sha256>"}  # of the values
      }
    }

``dataset_fingerprint(dir)`` is the SHA-256 over (relative path, SHA-256 of content) of
``meta/info.json``, ``meta/episodes.jsonl``, ``meta/tasks.jsonl``, ``meta/modality.json`` and every
``data/**/*.parquet``. Stats are fresh (``stats_are_fresh(dir)``) only when both stats files exist,
``stats.fingerprint`` equals the current ``dataset_fingerprint``, ``stats.horizon`` is 30,
``stats.algorithm`` is the current one and the stats files' values still hash to ``stats.files``
(a digest of the parsed JSON, so upstream's rewrite of ``relative_stats.json`` at every training launch,
same values, keeps them fresh). The datasets role recomputes otherwise; upstream's trainer never checks.
"""

"""Record upstream's training side: tyro's parse of every recipe's argv, its errors, and real trainer runs.

Writes under ``tests/fixtures/upstream/train/``:

- ``fields.json``: ``FinetuneConfig``'s fields (name, annotation, default) and the EmbodimentTag names;
- ``parse/<recipe>.json``: the product's argv for the recipe, tyro's parsed values and the config
  ``launch_finetune.py`` hands ``experiment.run`` (``upstream_side/train_parse.py``);
- ``parse-spellings.json`` / ``parse-errors.json``: spelling rules tyro accepts, and the exit code and
  text of bad command lines;
- ``run/<case>.log`` and ``run/<case>.json``: ``launch_finetune.py`` under the real torchrun on CPU with
  only the model pipeline replaced (``upstream_side/train_run.py``): output, file tree, trainer state.
  The temporary output directory reads ``<OUTPUT_DIR>`` in them.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.conformance.train_recipes import BAD_ARGVS, REPO, SPELLING_ARGVS, recipe_argvs
from tests.conformance.upstream import UPSTREAM_SIDE, Upstream

TOPIC = "train"
RUN_FLAGS = ["--save_total_limit", "2", "--global_batch_size", "4", "--dataloader_num_workers", "0"]
# name -> (runs in order: (extra flags, knobs)); a later run of a case resumes in the same output dir.
RUNS: dict[str, list[tuple[list[str], dict[str, str]]]] = {
    # 25 steps, saves at 10, 20 and (the last step) 25; save_total_limit 2 rotates checkpoint-10 away.
    "normal": [(["--max_steps", "25", "--save_steps", "10"], {})],
    # Diverges at step 15: HF's logging_nan_inf_filter keeps the logged loss finite, grad_norm shows nan.
    "nan": [(["--max_steps", "40", "--save_steps", "20"], {"GROOT_CONFORMANCE_NAN_FROM_STEP": "15"})],
    # Killed after checkpoint-20's weights, before its optimizer and trainer_state.json; then relaunched.
    "crash_mid_save": [
        (["--max_steps", "30", "--save_steps", "10"],
         {"GROOT_CONFORMANCE_CRASH": "optimizer", "GROOT_CONFORMANCE_CRASH_AT_SAVE": "20"}),
        (["--max_steps", "30", "--save_steps", "10"], {}),
    ],
    # Killed after checkpoint-20's trainer_state.json, before the processor copy; then relaunched.
    "crash_processor_copy": [
        (["--max_steps", "30", "--save_steps", "10"],
         {"GROOT_CONFORMANCE_CRASH": "processor_copy", "GROOT_CONFORMANCE_CRASH_AT_SAVE": "20"}),
        (["--max_steps", "30", "--save_steps", "10"], {}),
    ],
}  # fmt: skip


def _write_json(path: Path, payload: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def _parse(upstream: Upstream, cases: dict[str, list[str]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.json"
        path.write_text(json.dumps([{"name": k, "argv": v} for k, v in cases.items()]))
        return upstream.run_json("train_parse.py", str(path), timeout_s=900)


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in root.rglob("*"))


def _train(upstream: Upstream, out: Path, flags: list[str], knobs: dict[str, str]) -> tuple[int, str]:
    argv = [
        str(upstream.python), "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1",
        str(UPSTREAM_SIDE / "train_run.py"), "--base_model_path", "nvidia/GR00T-N1.6-3B",
        "--dataset_path", str(out.parent / "dataset"), "--embodiment_tag", "UNITREE_G1",
        "--output_dir", str(out), *RUN_FLAGS, *flags,
    ]  # fmt: skip
    env = upstream.env({"GROOT_UPSTREAM_SRC": str(upstream.src), "PYTHONUNBUFFERED": "1", **knobs})
    env.pop("COLUMNS", None)
    proc = subprocess.run(
        argv, cwd=str(upstream.src), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900
    )
    return proc.returncode, proc.stdout.decode("utf-8", errors="replace").replace(str(out), "<OUTPUT_DIR>")


def _record_runs(upstream: Upstream, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    for case, runs in RUNS.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            for attempt, (flags, knobs) in enumerate(runs):
                code, text = _train(upstream, out, flags, knobs)
                name = case if attempt == 0 else f"{case}_relaunch"
                log = out_dir / "run" / f"{name}.log"
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text(text)
                checkpoints = sorted(
                    (p for p in out.glob("checkpoint-*") if p.is_dir()),
                    key=lambda p: int(p.name.split("-")[1]),
                )
                states = {
                    p.name: json.loads((p / "trainer_state.json").read_text())
                    for p in checkpoints
                    if (p / "trainer_state.json").is_file()
                }
                summary = {
                    "argv_tail": [*RUN_FLAGS, *flags],
                    "knobs": knobs,
                    "exit_code": code,
                    "tree": _tree(out),
                    "trainer_states": states,
                }
                written += [log, _write_json(out_dir / "run" / f"{name}.json", summary)]
    return written


def _parse_new_embodiment(upstream: Upstream, name: str, argv: list[str]) -> dict[str, Any]:
    """A recipe with --modality_config_path, parsed in its own process (upstream's registry takes
    NEW_EMBODIMENT once) with the path pointing at a copy of the recipe's file, since launch_finetune.py
    imports it and the product's path (under /workspace) exists only on a training host. The product's
    path string is put back into ``parsed`` and ``config`` afterwards; nothing else is touched."""
    import shutil

    from tests.conformance.train_recipes import recipes

    at = argv.index("--modality_config_path") + 1
    product_path = argv[at]
    entry = recipes()[name]
    source = REPO / "inventory" / "modality_configs" / entry["inventory"] / entry["recipe"]["modality_config"]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / source.name
        shutil.copyfile(source, copy)
        result = _parse(upstream, {f"recipe:{name}": [*argv[:at], str(copy), *argv[at + 1 :]]})["cases"]
    case = result[f"recipe:{name}"]
    text = json.dumps(case).replace(str(copy), product_path)
    return json.loads(text)


def parse_all(upstream: Upstream) -> dict[str, Any]:
    """Upstream's parse of every recipe's argv and of the spelling and error cases (the recorder and the
    live test both use this): NEW_EMBODIMENT recipes each in their own process."""
    argvs = recipe_argvs()
    own = {k: v for k, v in argvs.items() if "--modality_config_path" in v}
    shared = {f"recipe:{k}": v for k, v in argvs.items() if k not in own}
    parsed = _parse(upstream, {**shared, **BAD_ARGVS, **SPELLING_ARGVS})
    parsed["cases"].update({f"recipe:{k}": _parse_new_embodiment(upstream, k, v) for k, v in own.items()})
    return parsed


def record(upstream: Upstream, out_dir: Path) -> list[Path]:
    argvs = recipe_argvs()
    parsed = parse_all(upstream)
    cases = parsed["cases"]
    written = [_write_json(out_dir / "fields.json", {k: parsed[k] for k in ("fields", "embodiment_tags")})]
    for name, argv in argvs.items():
        result = cases[f"recipe:{name}"]
        if result["exit_code"] != 0:
            raise AssertionError(f"upstream's tyro rejected recipe {name}'s argv:\n{result['output']}")
        written.append(
            _write_json(out_dir / "parse" / f"{name}.json", {"recipe": name, "argv": argv, **result})
        )
    written.append(
        _write_json(out_dir / "parse-errors.json", {k: {"argv": v, **cases[k]} for k, v in BAD_ARGVS.items()})
    )
    written.append(
        _write_json(
            out_dir / "parse-spellings.json", {k: {"argv": v, **cases[k]} for k, v in SPELLING_ARGVS.items()}
        )
    )
    helped = upstream.run("train_help.py", "--base_model_path", "x", "--help")
    help_file = out_dir / "help.txt"
    help_file.write_text(helped.stdout)
    return [*written, help_file, *_record_runs(upstream, out_dir)]

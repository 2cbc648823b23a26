"""Failure classes from torchrun's exit code and the log tail, with advice and a retry decision."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

# Classes that a bounded automatic retry can fix: disk after the disk guard ran, rendezvous
# after a peer came back. Everything else needs a person (or a changed recipe).
# A checkpoint cut short under the trainer's feet is quarantined at the next attempt's start.
RETRYABLE = frozenset({"disk", "timeout", "checkpoint"})

# Upstream's own asserts on configuration (n1.6.1): gr00t/experiment/experiment.py warn_configs,
# gr00t/model/modules/eagle_backbone.py EagleBackbone, gr00t/data/dataset/factory.py DatasetFactory.build,
# gr00t/configs/base_config.py Config, gr00t/model/gr00t_n1d6/processing_gr00t_n1d6.py,
# gr00t/configs/data/embodiment_configs.py register_modality_config.
CONFIG_ASSERTS = (
    r"global_batch_size must be divisible by num_gpus",
    r"requires flash attention by default",
    r"requires bfloat16 by default",
    r"image_crop_size and image_target_size must be set together",
    r"Do not set shortest_image_edge and crop_fraction together",
    r"use_albumentations_transforms must be True",
    r"Sharded dataset does not support evaluation sets",
    r"Only single turn mode is supported",
    r"Embodiment tag is required",
    r"Processor for \S+ not supported",
    r"Invalid backbone model type",
    r"Embodiment tag \S+ already registered",
)
# Upstream's asserts on the dataset: gr00t/data/dataset/lerobot_episode_loader.py and
# sharded_single_step_dataset.py, gr00t/data/types.py, gr00t/data/state_action/state_action_processor.py.
DATA_ASSERTS = (
    r"does not exist for .*please use gr00t/data/stats\.py to generate it",
    r"(Video|Mask) data for \S+ has length \d+ but dataframe has length \d+",
    r"Key \S+ not found in language modality",
    r"Original key \S+ not found in feature config",
    r"No valid trajectories found for dataset",
    r"All shards must have length greater than 0",
    r"Expected 1 language, got",
    r"Language modality must have exactly one key",
    r"Number of action configs \(\d+\) must match number of modality keys",
    r"State dim \d+ != action dim \d+",
    r"Expected (action|state) shape",
    r"Unexpected number of frames",
)
_ASSERT = r"^\s*(\[rank\d+\]:\s*)?AssertionError: .*"

# Order matters: a disk-full save or an argument error can also end with a generic traceback.
PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "config",
        (
            # tyro's panels (tests/fixtures/upstream/train/parse-errors.json) and argparse's wording.
            r"Unrecognized (or misplaced )?options",
            r"Unrecognized arguments: ",
            r"Required options",
            r"Parsing error",
            r"Value error",
            r"Error parsing --[\w-]+",
            r"Argument --?[\w-]+: invalid choice",
            r"Argument --?[\w-]+ is required",
            r"The following arguments are required",
            r"^\S+: error: ",
            r"groot_ops\.errors\.ConfigError",
            *(_ASSERT + text for text in CONFIG_ASSERTS),
        ),
    ),
    (
        # The newest checkpoint-N was cut short: Gr00tTrainer.train reads its trainer_state.json
        # (FileNotFoundError), or transformers' _load_from_checkpoint finds no weights.
        "checkpoint",
        (
            r"FileNotFoundError: .*checkpoint-\d+/trainer_state\.json",
            r"Can't find a valid checkpoint at ",
        ),
    ),
    (
        "disk",
        (
            r"No space left on device",
            r"\[Errno 28\]",
            r"PytorchStreamWriter failed writing file",
            r"Disk quota exceeded",
        ),
    ),
    (
        "cuda_oom",
        (
            r"torch\.OutOfMemoryError: CUDA out of memory",
            r"torch\.cuda\.OutOfMemoryError",
            r"CUDA out of memory",
            r"CUDA error: out of memory",
        ),
    ),
    (
        "timeout",
        (
            r"Watchdog caught collective operation timeout",
            r"RendezvousTimeoutError",
            r"RendezvousConnectionError",
            r"DistNetworkError",
            r"NCCL communicator was aborted",
            r"DistStoreError",
        ),
    ),
    (
        "data",
        (
            r"^\s*(\[rank\d+\]:\s*)?KeyError: ",
            r"^\s*(\[rank\d+\]:\s*)?(FileNotFoundError|pyarrow\.lib\.ArrowInvalid|ArrowInvalid): ",
            r"groot_ops\.errors\.InputError",
            *(_ASSERT + text for text in DATA_ASSERTS),
        ),
    ),
    # Python's own: the interpreter could not allocate host memory (evidence enough by itself).
    ("host_oom", (r"^\s*(\[rank\d+\]:\s*)?MemoryError",)),
    ("assertion", (_ASSERT,)),
)
# A process killed by SIGKILL: the kernel's OOM killer, or a person, or another program. Only the
# kernel's or the cgroup's OOM-kill count tells (groot_ops.train.oomkill).
SIGKILL_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"Signal 9 \(SIGKILL\) received",
        r"exitcode\s*:\s*-9\b",
        r"\(exitcode: -9\)",
        r"is killed by signal: Killed",
        r"DataLoader worker \(pid\(s\)? [\d, ]+\) exited unexpectedly",
    )
)
_COMPILED = tuple((name, tuple(re.compile(p) for p in pats)) for name, pats in PATTERNS)
_RANK_PREFIX = re.compile(r"^\[rank\d+\]:\s?")

ADVICE: dict[str, str] = {
    "cuda_oom": (
        "GPU memory ran out: lower global_batch_size (keep it divisible by the GPU count) and raise "
        "gradient_accumulation_steps to keep the effective batch, or add GPUs; keep tune_llm/tune_visual "
        "off; "
        "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True is already set by the supervisor."
    ),
    "host_oom": (
        "the kernel's OOM killer ended a worker (host RAM): lower dataloader_num_workers, train on one "
        "camera, give the container more memory/shm; host RAM also grows at checkpoint saves."
    ),
    "killed": (
        "the trainer was killed with SIGKILL and no OOM kill was recorded (by the kernel or the container's "
        "cgroup): someone or something killed it (kill -9, a container stop). Re-run to resume."
    ),
    "checkpoint": (
        "the newest checkpoint is incomplete (a save was cut short): it is moved to the quarantine and the "
        "run resumes from the one before."
    ),
    "disk": "disk full: the disk guard ran; free space or lower save_total_limit before re-running.",
    "timeout": (
        "NCCL/rendezvous timeout: check that every training host runs the same recipe, that the first host's "
        "rendezvous port is reachable, and the network between nodes."
    ),
    "config": (
        "bad launch configuration: fix the recipe flags (or the Isaac-GR00T install, for flash attention and "
        "bf16); the trainer's own message is above."
    ),
    "data": "the trainer rejected the dataset: re-run the datasets stage (convert, stats, validate).",
    "diverged": (
        "the loss or the gradient norm became NaN/inf: training was stopped, and any checkpoint saved after "
        "the divergence was quarantined. Lower learning_rate (or raise warmup_ratio), check the dataset's "
        "stats, then re-run: it resumes from the last checkpoint before the divergence."
    ),
    "assertion": "an assertion inside Isaac-GR00T failed; its text is above, train.log has the traceback.",
    "unknown": "see the log tail in train.log.",
}


@dataclass(frozen=True)
class Failure:
    cls: str
    message: str
    advice: str
    retryable: bool
    exit_code: int | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["class"] = data.pop("cls")
        return data


def _clean(line: str) -> str:
    return _RANK_PREFIX.sub("", line.rstrip())


def _config_message(lines: list[str], patterns: tuple[re.Pattern[str], ...]) -> str:
    """The trainer's own words: every tyro panel in full, and every argparse-style error line."""
    picked: list[str] = []
    in_panel = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("╭"):
            in_panel = True
        if in_panel or any(p.search(line) for p in patterns):
            cleaned = _clean(line)
            if cleaned not in picked or in_panel:
                picked.append(cleaned)
        if stripped.startswith("╰"):
            in_panel = False
    return "\n".join(picked).strip()


def _killed(exit_code: int | None, lines: list[str]) -> int | None:
    """The line index that says SIGKILL (or -1 for only the exit code), None when nothing does."""
    hits = [i for i, line in enumerate(lines) if any(p.search(line) for p in SIGKILL_PATTERNS)]
    if hits:
        return hits[-1]
    return -1 if exit_code in (137, -9) else None


def classify(exit_code: int | None, log_tail: str, *, oom_kills: str | None = None) -> Failure | None:
    """None for success; otherwise the failure class with the trainer's own message.

    ``oom_kills``: what recorded an OOM kill during the attempt (``groot_ops.train.oomkill``), None when
    nothing did. A SIGKILL is ``host_oom`` only with that evidence, otherwise ``killed``.
    """
    if exit_code == 0:
        return None
    lines = log_tail.replace("\r", "\n").splitlines()
    for name, patterns in _COMPILED:
        hits = [i for i, line in enumerate(lines) if any(p.search(line) for p in patterns)]
        if not hits:
            continue
        message = _config_message(lines, patterns) if name == "config" else _clean(lines[hits[-1]]).strip()
        return Failure(name, message, ADVICE[name], name in RETRYABLE, exit_code)
    killed = _killed(exit_code, lines)
    if killed is not None:
        said = _clean(lines[killed]).strip() if killed >= 0 else f"exit code {exit_code}"
        if oom_kills:
            return Failure("host_oom", f"{said}; {oom_kills}", ADVICE["host_oom"], False, exit_code)
        return Failure(
            "killed",
            f"killed by signal 9 (SIGKILL): {said}; no OOM kill recorded by the kernel or the cgroup",
            ADVICE["killed"],
            False,
            exit_code,
        )
    said = (_TQDM_FRAME.sub("", _clean(line)).strip() for line in reversed(_trainer_lines(lines)))
    last = next((line for line in said if line), "")
    return Failure("unknown", last or f"exit code {exit_code}", ADVICE["unknown"], False, exit_code)


# A tqdm frame ends in \r, not \n: whatever the trainer prints next shares its line ("50%|##  | 20/40 [..]X").
_TQDM_FRAME = re.compile(r"^.*?\d+%\|[^|]*\|\s*\d+/\d+\s*\[[^\]]*\]")
_TORCHRUN_FAILED = re.compile(r"torch/distributed/elastic/multiprocessing/api\.py:\d+\] failed \(exitcode")


def _trainer_lines(lines: list[str]) -> list[str]:
    """The trainer's own output: without the supervisor's notes and torchrun's closing failure report."""
    own = [line for line in lines if not line.startswith("[groot-ops supervisor")]
    for i, line in enumerate(own):
        if _TORCHRUN_FAILED.search(line):
            return own[:i]
    return own

"""Failure classes from torchrun's exit code and the log tail, with advice and a retry decision."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

# Classes that a bounded automatic retry can fix: disk after the disk guard ran, rendezvous
# after a peer came back. Everything else needs a person (or a changed recipe).
RETRYABLE = frozenset({"disk", "timeout"})

# Order matters: a disk-full save or an argument error can also end with a generic traceback.
PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "config",
        (
            r"Unrecognized (or misplaced )?options",
            r"Required options",
            r"Parsing error",
            r"Argument --?[\w-]+ is required",
            r"^\S+: error: ",
            r"groot_ops\.errors\.ConfigError",
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
        "host_oom",
        (
            r"Signal 9 \(SIGKILL\) received",
            r"exitcode\s*:\s*-9\b",
            r"\(exitcode: -9\)",
            r"is killed by signal: Killed",
            r"DataLoader worker \(pid\(s\)? [\d, ]+\) exited unexpectedly",
            r"MemoryError",
        ),
    ),
    (
        "data",
        (
            r"^\s*(\[rank\d+\]:\s*)?KeyError: ",
            r"^\s*(\[rank\d+\]:\s*)?AssertionError",
            r"^\s*(\[rank\d+\]:\s*)?(FileNotFoundError|pyarrow\.lib\.ArrowInvalid|ArrowInvalid): ",
            r"groot_ops\.errors\.InputError",
        ),
    ),
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
        "a worker was killed (SIGKILL), usually host RAM: lower dataloader_num_workers, train on one camera, "
        "give the container more memory/shm; host RAM also grows at checkpoint saves."
    ),
    "disk": "disk full: the disk guard ran; free space or lower save_total_limit before re-running.",
    "timeout": (
        "NCCL/rendezvous timeout: check that every training host runs the same recipe, that the first host's "
        "rendezvous port is reachable, and the network between nodes."
    ),
    "config": "bad launch configuration: fix the recipe flags; the trainer's own message is above.",
    "data": "the trainer rejected the dataset: re-run the datasets stage (convert, stats, validate).",
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


def classify(exit_code: int | None, log_tail: str) -> Failure | None:
    """None for success; otherwise the failure class with the trainer's own message."""
    if exit_code == 0:
        return None
    lines = log_tail.replace("\r", "\n").splitlines()
    for name, patterns in _COMPILED:
        hits = [i for i, line in enumerate(lines) if any(p.search(line) for p in patterns)]
        if not hits:
            continue
        message = _config_message(lines, patterns) if name == "config" else _clean(lines[hits[-1]]).strip()
        return Failure(name, message, ADVICE[name], name in RETRYABLE, exit_code)
    if exit_code in (137, -9):
        return Failure(
            "host_oom", f"killed by SIGKILL (exit code {exit_code})", ADVICE["host_oom"], False, exit_code
        )
    last = next((_clean(line).strip() for line in reversed(lines) if line.strip()), "")
    return Failure("unknown", last or f"exit code {exit_code}", ADVICE["unknown"], False, exit_code)

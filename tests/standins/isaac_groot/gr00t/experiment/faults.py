"""Test-only knobs (environment variables) that make the stand-in misbehave the way real runs do.

GROOT_STANDIN_PAD_CHECKPOINT_MB   pad every checkpoint's optimizer.pt to this many MiB (disk tests)
GROOT_STANDIN_CRASH_AT_STEP       exit 1 right after optimizer step N (before that step's save)
GROOT_STANDIN_CRASH_DURING_SAVE   die after writing a checkpoint's weights, before trainer_state.json
GROOT_STANDIN_CRASH_BEFORE_PROCESSOR_COPY  die after a checkpoint's trainer_state.json (and the rotation),
                                  before CheckpointFormatCallback copies the processor files in
GROOT_STANDIN_NAN_FROM_STEP       the loss is NaN from this optimizer step on (a diverging run)
GROOT_STANDIN_CRASH_AT_SAVE       the save step at which the two knobs above fire (default: the first save)
GROOT_STANDIN_STEP_SLEEP_S        sleep this long in every step (slow training)
GROOT_STANDIN_FAIL                cuda_oom | host_oom | disk_full | nccl_timeout | flash_attention: fail like
                                  the real thing,
                                  at GROOT_STANDIN_CRASH_AT_STEP if set, else at the first step
"""

from __future__ import annotations

import os
import signal
import sys
import time


def _int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else None


def pad_checkpoint_bytes() -> int:
    raw = os.environ.get("GROOT_STANDIN_PAD_CHECKPOINT_MB", "").strip()
    return int(float(raw) * 1024 * 1024) if raw else 0


def _save_knob(name: str, step: int) -> bool:
    if os.environ.get(name, "").strip() in ("", "0", "false"):
        return False
    at = _int("GROOT_STANDIN_CRASH_AT_SAVE")
    return at is None or at == step


def crash_during_save(step: int) -> bool:
    return _save_knob("GROOT_STANDIN_CRASH_DURING_SAVE", step)


def crash_before_processor_copy(step: int) -> bool:
    return _save_knob("GROOT_STANDIN_CRASH_BEFORE_PROCESSOR_COPY", step)


def nan_loss(step: int) -> bool:
    start = _int("GROOT_STANDIN_NAN_FROM_STEP")
    return start is not None and step >= start


def step_sleep() -> None:
    raw = os.environ.get("GROOT_STANDIN_STEP_SLEEP_S", "").strip()
    if raw:
        time.sleep(float(raw))


def _cuda_oom(rank: int) -> None:
    import torch

    raise torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.55 GiB of which "
        "1.12 GiB is free. Including non-PyTorch memory, this process has 22.42 GiB memory in use. Of the "
        "allocated memory 21.73 GiB is allocated by PyTorch, and 312.45 MiB is reserved by PyTorch but "
        "unallocated. If reserved but unallocated memory is large try setting "
        "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation."
    )


def _host_oom(rank: int) -> None:
    # The kernel's OOM killer sends SIGKILL; torchrun then reports "Signal 9 (SIGKILL) received".
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _disk_full(rank: int) -> None:
    raise OSError(28, "No space left on device")


def _nccl_timeout(rank: int) -> None:
    print(
        f"[rank{rank}]:[E ProcessGroupNCCL.cpp:616] [Rank {rank}] "
        "Watchdog caught collective operation timeout: "
        "WorkNCCL(SeqNum=4211, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600043 "
        "milliseconds before timing out.",
        file=sys.stderr,
        flush=True,
    )
    raise RuntimeError(
        f"[Rank {rank}] NCCL communicator was aborted on rank {rank}. Watchdog caught collective operation "
        "timeout: WorkNCCL(SeqNum=4211, OpType=ALLREDUCE) ran for 600043 milliseconds before timing out."
    )


def _flash_attention(rank: int) -> None:
    # gr00t/model/modules/eagle_backbone.py EagleBackbone: the model config asks for flash attention.
    raise AssertionError("nvidia/Eagle-Block2A-2B-v2 requires flash attention by default")


FAILURES = {
    "cuda_oom": _cuda_oom,
    "host_oom": _host_oom,
    "disk_full": _disk_full,
    "nccl_timeout": _nccl_timeout,
    "flash_attention": _flash_attention,
}


def check_step(step: int, rank: int) -> None:
    """Called after each optimizer step ``step`` (1-based), and with step 0 before the first."""
    failure = os.environ.get("GROOT_STANDIN_FAIL", "").strip()
    crash_at = _int("GROOT_STANDIN_CRASH_AT_STEP")
    if failure:
        if failure not in FAILURES:
            raise ValueError(f"GROOT_STANDIN_FAIL={failure!r}: expected one of {sorted(FAILURES)}")
        if (crash_at is None and step == 0) or step == crash_at:
            FAILURES[failure](rank)
        return
    if crash_at is not None and step == crash_at:
        print(
            f"GROOT_STANDIN_CRASH_AT_STEP: crashing at step {step} (test knob)", file=sys.stderr, flush=True
        )
        sys.stdout.flush()
        os._exit(1)

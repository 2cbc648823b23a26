"""Failure classification against error texts as torch, torchrun, tyro and the OS print them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.train.classify import classify

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

TORCHRUN_SUMMARY = """\
E1123 10:00:00.000000 1234 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: {code}) \
local_rank: 0 (pid: 5678) of binary: /opt/conda/envs/unitree_sim_env/bin/python
Traceback (most recent call last):
  File "/opt/conda/envs/unitree_sim_env/bin/torchrun", line 8, in <module>
    sys.exit(main())
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
gr00t/experiment/launch_finetune.py FAILED
------------------------------------------------------------
Failures:
  <NO_OTHER_FAILURES>
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-11-23_10:00:00
  host      : dm-workstation
  rank      : 0 (local_rank: 0)
  exitcode  : {code} (pid: 5678)
  error_file: <N/A>
  traceback : {traceback}
============================================================
"""

CUDA_OOM = """\
[rank0]: Traceback (most recent call last):
[rank0]:   File "/workspace/Isaac-GR00T/gr00t/experiment/launch_finetune.py", line 120, in <module>
[rank0]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity \
of 23.55 GiB of which 1.12 GiB is free. Including non-PyTorch memory, this process has 22.41 GiB \
memory in use.
"""
DISK = """\
  File "/usr/lib/python3.10/site-packages/torch/serialization.py", line 652, in save
RuntimeError: [enforce fail at inline_container.cc:603] . unexpected pos 1134617344 vs 1134617232
OSError: [Errno 28] No space left on device
"""
NCCL = (
    "[rank1]:[E1123 10:00:00.000 ProcessGroupNCCL.cpp:616] [Rank 1] Watchdog caught collective operation "
    "timeout: WorkNCCL(SeqNum=1, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for "
    "600010 milliseconds before timing out.\n"
)
RDZV = (
    "torch.distributed.elastic.rendezvous.api.RendezvousTimeoutError\n"
    "[W1123 10:00:00 socket.cpp:752] The client socket has timed out after 60s while trying to connect "
    "to ws1.\n"
)
TYRO = """\
╭─ Unrecognized options ───────────────────────────────────────────────╮
│ Unrecognized or misplaced options:                                   │
│                                                                      │
│   --global-batch-sise                                                │
│                                                                      │
│ Perhaps you meant:                                                   │
│     --global-batch-size INT                                          │
│ For full helptext, run launch_finetune.py --help                     │
╰──────────────────────────────────────────────────────────────────────╯
"""
ARGPARSE = (
    "usage: launch_finetune.py [-h] --base_model_path BASE_MODEL_PATH\n"
    "launch_finetune.py: error: the following arguments are required: --dataset_path\n"
)
DATA_KEY = (
    '[rank0]:   File "/workspace/Isaac-GR00T/gr00t/data/dataset/lerobot_episode_loader.py", line 210\n'
    "[rank0]: KeyError: 'observation.images.ego_view'\n"
)
DATA_ASSERT = "[rank0]: AssertionError: Unexpected number of frames: 118 decoded, 120 in parquet\n"


@pytest.mark.parametrize(
    ("code", "log", "cls", "needle"),
    [
        (1, CUDA_OOM + TORCHRUN_SUMMARY.format(code=1, traceback="To enable traceback see ..."), "cuda_oom",
         "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"),
        (1, TORCHRUN_SUMMARY.format(code=-9, traceback="Signal 9 (SIGKILL) received by PID 5678"), "killed",
         "killed by signal 9 (SIGKILL): traceback : Signal 9 (SIGKILL) received by PID 5678; no OOM kill"),
        (1, DISK, "disk", "OSError: [Errno 28] No space left on device"),
        (1, NCCL, "timeout", "Watchdog caught collective operation timeout"),
        (1, RDZV, "timeout", "RendezvousTimeoutError"),
        (2, ARGPARSE, "config", "the following arguments are required: --dataset_path"),
        (1, DATA_KEY + TORCHRUN_SUMMARY.format(code=1, traceback="..."), "data",
         "KeyError: 'observation.images.ego_view'"),
        (1, DATA_ASSERT, "data", "AssertionError: Unexpected number of frames"),
        (-9, "", "killed", "killed by signal 9 (SIGKILL): exit code -9"),
        (1, "[rank0]: MemoryError\n", "host_oom", "MemoryError"),
        (1, "Segmentation fault (core dumped)\n", "unknown", "Segmentation fault"),
    ],
)  # fmt: skip
def test_classes(code: int, log: str, cls: str, needle: str) -> None:
    failure = classify(code, log)
    assert failure is not None
    assert failure.cls == cls
    assert needle in failure.message
    assert failure.exit_code == code
    assert failure.retryable is (cls in ("disk", "timeout"))
    assert failure.advice


def test_success_is_not_a_failure_even_with_scary_words() -> None:
    assert classify(0, "KeyError: 'x' was handled\n") is None


def test_tyro_panel_is_reported_verbatim() -> None:
    failure = classify(2, "some noise\n" + TYRO + TORCHRUN_SUMMARY.format(code=2, traceback="..."))
    assert failure is not None and failure.cls == "config"
    assert failure.message == TYRO.strip()


def test_argparse_error_lines_are_collected_in_order_without_torchrun_noise() -> None:
    log = (
        "launch_finetune.py: error: --embodiment_tag: 'UNITREE_G2' is not one of ['UNITREE_G1']\n"
        "Parsing error: see --help for the accepted flags\n"
        + TORCHRUN_SUMMARY.format(code=2, traceback="...")
        + "usage: launch_finetune.py [-h] --base_model_path BASE_MODEL_PATH\n"
    )
    failure = classify(1, log)
    assert failure is not None and failure.cls == "config"
    assert failure.message == (
        "launch_finetune.py: error: --embodiment_tag: 'UNITREE_G2' is not one of ['UNITREE_G1']\n"
        "Parsing error: see --help for the accepted flags"
    )


def test_cuda_oom_advice_names_batch_and_allocator() -> None:
    failure = classify(1, CUDA_OOM)
    assert failure is not None
    assert "global_batch_size" in failure.advice and "expandable_segments" in failure.advice
    assert failure.to_dict()["class"] == "cuda_oom"


@pytest.mark.parametrize("case", ["cuda-oom", "nccl-timeout"])
def test_real_gpu_failures_recorded_on_an_h200(case: str) -> None:
    """tests/fixtures/gpu/h200-x1: a real torch.OutOfMemoryError and a real NCCL watchdog timeout."""
    log = (FIXTURES / "gpu" / "h200-x1" / f"{case}.log").read_text()
    failure = classify(1, log)
    assert failure is not None
    if case == "cuda-oom":
        assert failure.cls == "cuda_oom" and not failure.retryable
        assert failure.message.startswith(
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 83.88 GiB"
        )
    else:
        # The rank dies of SIGABRT (-6) after the watchdog's message: still a timeout, retried.
        assert failure.cls == "timeout" and failure.retryable
        assert (
            "Watchdog caught collective operation timeout: WorkNCCL(SeqNum=2, OpType=ALLREDUCE"
            in failure.message
        )


def test_every_recorded_tyro_error_is_a_config_failure_in_tyros_words() -> None:
    errors = json.loads((FIXTURES / "upstream" / "train" / "parse-errors.json").read_text())
    for name, case in errors.items():
        failure = classify(
            case["exit_code"], case["output"] + TORCHRUN_SUMMARY.format(code=2, traceback="...")
        )
        assert failure is not None and failure.cls == "config", name
        assert failure.message == case["output"].strip(), name


def test_a_sigkill_is_host_oom_only_with_evidence() -> None:
    log = TORCHRUN_SUMMARY.format(code=-9, traceback="Signal 9 (SIGKILL) received by PID 5678")
    killed = classify(1, log)
    oom = classify(1, log, oom_kills="OOM kill recorded: cgroup oom_kill 0 -> 1")
    assert killed is not None and killed.cls == "killed" and "someone or something killed it" in killed.advice
    assert oom is not None and oom.cls == "host_oom" and "cgroup oom_kill 0 -> 1" in oom.message


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        # gr00t/experiment/experiment.py warn_configs
        ("AssertionError: global_batch_size must be divisible by num_gpus", "config"),
        # gr00t/model/modules/eagle_backbone.py
        ("AssertionError: nvidia/Eagle-Block2A-2B-v2 requires flash attention by default", "config"),
        ("AssertionError: nvidia/Eagle-Block2A-2B-v2 requires bfloat16 by default", "config"),
        ("AssertionError: Embodiment tag EmbodimentTag.NEW_EMBODIMENT already registered", "config"),
        # gr00t/data/dataset/lerobot_episode_loader.py
        ("AssertionError: Video data for ego_view has length 118 but dataframe has length 120", "data"),
        ("AssertionError: /d/meta/stats.json does not exist for /d, please use gr00t/data/stats.py to "
         "generate it", "data"),
        ("AssertionError: No valid trajectories found for dataset /d", "data"),
        # Something else asserted: its text, not "re-run the datasets stage".
        ("AssertionError: something upstream did not expect", "assertion"),
    ],
)  # fmt: skip
def test_assertions_are_classified_by_their_text(text: str, cls: str) -> None:
    failure = classify(1, f"[rank0]: Traceback (most recent call last):\n[rank0]: {text}\n")
    assert failure is not None and failure.cls == cls
    assert failure.message == text


def test_a_cut_short_checkpoint_under_the_trainer_is_its_own_retryable_class() -> None:
    text = (
        "[rank0]: FileNotFoundError: [Errno 2] No such file or directory: "
        "'/o/checkpoint-20/trainer_state.json'\n"
    )
    failure = classify(1, text)
    assert failure is not None and failure.cls == "checkpoint" and failure.retryable


def test_an_unknown_failure_quotes_the_trainer_not_torchrun_or_the_supervisor() -> None:
    log = (
        "GROOT_STANDIN_CRASH_DURING_SAVE: dying after the weights (test knob)\n"
        + TORCHRUN_SUMMARY.format(code=1, traceback="To enable traceback see ...")
        + "[groot-ops supervisor 22:39:29] torchrun exited with code 1\n"
    )
    failure = classify(1, log)
    assert failure is not None and failure.cls == "unknown"
    assert failure.message == "GROOT_STANDIN_CRASH_DURING_SAVE: dying after the weights (test knob)"


def test_an_unknown_failure_printed_after_a_progress_bar_is_quoted_without_the_bar() -> None:
    # tqdm's last frame ends in \r, so the trainer's next words share its line in train.log.
    log = (
        " 50%|█████     | 20/40 [00:04<00:04,  4.58it/s]\r"
        " 50%|█████     | 20/40 [00:04<00:04,  4.58it/s]"
        "GROOT_STANDIN_CRASH_DURING_SAVE: dying after the weights\n"
        + TORCHRUN_SUMMARY.format(code=1, traceback="To enable traceback see ...")
    )
    failure = classify(1, log)
    assert failure is not None and failure.cls == "unknown"
    assert failure.message == "GROOT_STANDIN_CRASH_DURING_SAVE: dying after the weights"

"""Failure classification against error texts as torch, torchrun, tyro and the OS print them."""

from __future__ import annotations

import pytest

from groot_ops.train.classify import classify

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
        (1, TORCHRUN_SUMMARY.format(code=-9, traceback="Signal 9 (SIGKILL) received by PID 5678"), "host_oom",
         "Signal 9 (SIGKILL) received by PID 5678"),
        (1, DISK, "disk", "OSError: [Errno 28] No space left on device"),
        (1, NCCL, "timeout", "Watchdog caught collective operation timeout"),
        (1, RDZV, "timeout", "RendezvousTimeoutError"),
        (2, ARGPARSE, "config", "the following arguments are required: --dataset_path"),
        (1, DATA_KEY + TORCHRUN_SUMMARY.format(code=1, traceback="..."), "data",
         "KeyError: 'observation.images.ego_view'"),
        (1, DATA_ASSERT, "data", "AssertionError: Unexpected number of frames"),
        (-9, "", "host_oom", "SIGKILL"),
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

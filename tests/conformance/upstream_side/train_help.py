"""Upstream's launch_finetune.py command line asked for --help among other flags (tyro.cli(FinetuneConfig)).

Prints tyro's help and exits with tyro's code; groot_env runs the same to check an env.
"""

import sys

import tyro
from gr00t.configs.finetune_config import FinetuneConfig

sys.argv = ["launch_finetune.py", *sys.argv[1:]]
tyro.cli(FinetuneConfig)

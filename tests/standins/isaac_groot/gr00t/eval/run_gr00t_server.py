"""Serve a fine-tuned GR00T N1.6 checkpoint over ZeroMQ (stand-in of gr00t/eval/run_gr00t_server.py).

    python gr00t/eval/run_gr00t_server.py --model-path DIR --embodiment-tag UNITREE_G1 \
        --host 0.0.0.0 --port 5555 [--no-strict] [--use-sim-policy-wrapper]

Test-only knob: GROOT_STANDIN_SERVER_DELAY_S delays start-up (a slow model load) before the socket is bound.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gr00t.eval.server_config import ServerConfig, parse_server_config


def main(config: ServerConfig) -> int:
    # Mirrors run_gr00t_server.py main: these lines first, printed without a flush.
    print("Starting GR00T inference server...")
    print(f"  Embodiment tag: {config.embodiment_tag}")
    print(f"  Model path: {config.model_path}")
    print(f"  Device: {config.device}")
    print(f"  Host: {config.host}")
    print(f"  Port: {config.port}")
    # Mirrors run_gr00t_server.py main: an absolute model path must exist (and no --model-path at all
    # fails right here on None, before upstream's ReplayPolicy branch could be reached).
    if config.model_path.startswith("/") and not os.path.exists(config.model_path):
        raise FileNotFoundError(f"Model path {config.model_path} does not exist")
    from gr00t.policy.gr00t_policy import Gr00tPolicy, Gr00tSimPolicyWrapper
    from gr00t.policy.server_client import PolicyServer

    policy = Gr00tPolicy(
        embodiment_tag=config.embodiment_tag,
        model_path=config.model_path,
        device=config.device,
        strict=config.strict,
    )
    time.sleep(float(os.environ.get("GROOT_STANDIN_SERVER_DELAY_S", "0") or 0))
    if config.use_sim_policy_wrapper:
        # Mirrors run_gr00t_server.py main: the wrapper keeps its default strict=True.
        policy = Gr00tSimPolicyWrapper(policy)
    server = PolicyServer(policy=policy, host=config.host, port=config.port)
    try:
        server.run()
    except KeyboardInterrupt:
        print("\nShutting down server...")
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_server_config()))

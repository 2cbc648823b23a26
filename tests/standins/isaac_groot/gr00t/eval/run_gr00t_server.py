"""Serve a fine-tuned GR00T N1.6 checkpoint over ZeroMQ (stand-in of gr00t/eval/run_gr00t_server.py).

    python gr00t/eval/run_gr00t_server.py --model-path DIR --embodiment-tag UNITREE_G1 \
        --host 0.0.0.0 --port 5555

Test-only knob: GROOT_STANDIN_SERVER_DELAY_S delays start-up (a slow model load) before the socket is bound.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gr00t.data.embodiment import EMBODIMENT_TAGS


def _flag(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    kebab = f"--{name.replace('_', '-')}"
    snake = f"--{name}"
    parser.add_argument(*sorted({kebab, snake}), dest=name, **kwargs)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="run_gr00t_server.py", allow_abbrev=False)
    _flag(parser, "model_path", required=True)
    _flag(parser, "embodiment_tag", required=True, choices=sorted(EMBODIMENT_TAGS))
    _flag(parser, "host", default="127.0.0.1")
    _flag(parser, "port", type=int, default=5555)
    _flag(parser, "device", default="cuda")
    _flag(parser, "api_token", default=None)
    strict = parser.add_mutually_exclusive_group()
    strict.add_argument("--strict", dest="strict", action="store_true", default=True)
    strict.add_argument("--no-strict", "--no_strict", dest="strict", action="store_false")
    _flag(parser, "use_sim_policy_wrapper", action="store_true", default=False)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import zmq

    from gr00t.eval.policy_server import Policy, RequestError
    from gr00t.eval.serialization import dumps, loads

    delay = float(os.environ.get("GROOT_STANDIN_SERVER_DELAY_S", "0") or 0)
    embodiment = EMBODIMENT_TAGS[args.embodiment_tag]
    print(f"Loading policy from {args.model_path} for {embodiment} on {args.device}", flush=True)
    policy = Policy(
        Path(args.model_path), embodiment, strict=args.strict, sim_wrapper=args.use_sim_policy_wrapper
    )
    time.sleep(delay)
    context = zmq.Context()
    socket = context.socket(zmq.REP)
    socket.bind(f"tcp://{args.host}:{args.port}")
    print(f"Server is ready and listening on tcp://{args.host}:{args.port}", flush=True)
    running = True
    while running:
        raw = socket.recv()
        try:
            request = loads(raw)
            if not isinstance(request, dict):
                raise RequestError("request must be a map with 'endpoint'")
            if args.api_token and request.get("api_token") != args.api_token:
                raise RequestError("Unauthorized: invalid api_token")
            endpoint = request.get("endpoint", "get_action")
            data = request.get("data") or {}
            if endpoint == "ping":
                reply = {"status": "ok", "message": "Server is running"}
            elif endpoint == "get_modality_config":
                reply = policy.modality_config()
            elif endpoint == "get_action":
                reply = list(policy.get_action(data.get("observation")))
            elif endpoint == "reset":
                reply = {"status": "ok"}
            elif endpoint == "kill":
                reply = {"status": "ok", "message": "Server is shutting down"}
                running = False
            else:
                raise RequestError(f"Unknown endpoint: {endpoint}")
        except RequestError as exc:
            reply = {"error": str(exc)}
        except Exception as exc:  # a bad request must never take the server down
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        socket.send(dumps(reply))
    socket.close(linger=0)
    context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Record upstream's real policy server: its replies as msgpack bytes, its start-up lines, ServerConfig.

Upstream's ``run_gr00t_server.py`` runs in upstream's interpreter on a fake model (only model loading
and inference replaced, see ``upstream_side/fake_gr00t_model.py``), once per mode: ``strict`` (the
role's default command), ``sim`` (``--use-sim-policy-wrapper``), ``no_strict`` (``--no-strict``) and
``sim_no_strict`` (both).
Each request below is sent as raw bytes on a fresh REQ socket and the raw reply is kept.
``server_config.json`` holds tyro's parse, by upstream's ``ServerConfig``, of the command the
``groot_server`` role renders and of variants that probe its edges.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from groot_ops import policy_wire
from tests.conformance import server_fixtures
from tests.conformance.policy_servers import READY, make_upstream_checkpoint, upstream_server
from tests.conformance.role_command import rendered_server_command, server_argv
from tests.conformance.upstream import PINNED_COMMIT, Upstream
from tests.standins.g1_layout import STATE_GROUPS

TOPIC = "server"
IMAGE = (48, 64)  # any size passes upstream's checks; small keeps the fixtures small
TEXT = "Fold the towel."
LANGUAGE = "annotation.human.task_description"


def _state(batch: int = 1, dtype: Any = np.float32, **widths: int) -> dict[str, np.ndarray]:
    sizes = {k: b - a for k, (a, b) in STATE_GROUPS.items()} | widths
    return {k: np.full((batch, 1, w), 0.1 * (i + 1), dtype) for i, (k, w) in enumerate(sizes.items())}


def _video(batch: int = 1, dtype: Any = np.uint8) -> np.ndarray:
    return (np.arange(batch * IMAGE[0] * IMAGE[1] * 3) % 251).astype(dtype).reshape(batch, 1, *IMAGE, 3)


def nested(batch: int = 1, **parts: Any) -> dict[str, Any]:
    observation = {
        "video": {"ego_view": _video(batch)},
        "state": _state(batch),
        "language": {LANGUAGE: [[TEXT]] * batch},
    }
    return observation | parts


def flat(batch: int = 1, **parts: Any) -> dict[str, Any]:
    observation: dict[str, Any] = {"video.ego_view": _video(batch)}
    observation |= {f"state.{k}": v for k, v in _state(batch).items()}
    observation[LANGUAGE] = [TEXT] * batch
    return observation | parts


def get_action(observation: dict[str, Any]) -> bytes:
    return policy_wire.pack({"endpoint": "get_action", "data": {"observation": observation, "options": None}})


def body(message: Any) -> bytes:
    return policy_wire.pack(message)


@dataclass(frozen=True)
class Case:
    name: str
    request: Callable[[], bytes]
    compare: str  # "bytes" | "structure"
    what: str

    @property
    def endpoint(self) -> str | None:
        try:
            message = policy_wire.unpack(self.request())
        except Exception:
            return None
        return message.get("endpoint", "get_action") if isinstance(message, dict) else None


B, S = "bytes", "structure"
COMMON_ERRORS = [
    Case("error_unknown_endpoint", lambda: body({"endpoint": "no_such_endpoint"}), B, "unknown endpoint"),
    Case("error_reset_data_nil", lambda: body({"endpoint": "reset", "data": None}), B, "data: nil"),
    Case("error_get_action_without_data", lambda: body({"endpoint": "get_action"}), B, "no data"),
    Case("error_request_not_a_map", lambda: body([1, 2]), B, "a msgpack array"),
    Case("error_not_msgpack", lambda: b"\xc1", B, "a byte that is not msgpack"),
]
CASES: dict[str, list[Case]] = {
    "strict": [
        Case("ping", lambda: body({"endpoint": "ping"}), B, "ping as PolicyClient sends it (no data)"),
        Case("ping_with_data", lambda: body({"endpoint": "ping", "data": {"x": 1}}), B, "data is ignored"),
        Case("get_modality_config", lambda: body({"endpoint": "get_modality_config"}), B, "ModalityConfigs"),
        Case("get_action", lambda: get_action(nested()), S, "nested observation, batch 1"),
        Case("get_action_batch_2", lambda: get_action(nested(2)), S, "nested observation, batch 2"),
        Case(
            "get_action_without_endpoint",
            lambda: body({"data": {"observation": nested(), "options": None}}),
            S,
            "no endpoint means get_action",
        ),
        Case("reset", lambda: body({"endpoint": "reset", "data": {"options": None}}), B, "as PolicyClient"),
        Case("reset_without_data", lambda: body({"endpoint": "reset"}), B, "data defaults to {}"),
        *COMMON_ERRORS,
        Case("error_flat_observation", lambda: get_action(flat()), B, "the sim wrapper's layout"),
        Case(
            "error_state_float64",
            lambda: get_action(nested(state=_state(dtype=np.float64))),
            B,
            "state arrays must be float32",
        ),
        Case(
            "error_state_width",
            lambda: get_action(nested(state=_state(left_arm=6))),
            B,
            "left_arm 6 wide instead of 7 (upstream checks widths only when normalizing)",
        ),
        Case(
            "error_language_strings",
            lambda: get_action(nested(language={LANGUAGE: [TEXT]})),
            B,
            "nested language as a list of strings instead of [[text]]",
        ),
        Case("error_video_missing", lambda: get_action(nested(video={})), B, "no ego_view"),
        Case(
            "error_video_float32",
            lambda: get_action(nested(video={"ego_view": _video(dtype=np.float32)})),
            B,
            "video must be uint8",
        ),
        Case("error_state_not_a_map", lambda: get_action(nested(state=[1, 2])), B, "state as a list"),
        Case("kill", lambda: body({"endpoint": "kill"}), B, "the reply is nil; the server stops"),
    ],
    "sim": [
        Case("get_modality_config", lambda: body({"endpoint": "get_modality_config"}), B, "same as strict"),
        Case("get_action", lambda: get_action(flat()), S, "flat observation, batch 1"),
        Case("get_action_batch_2", lambda: get_action(flat(2)), S, "flat observation, batch 2"),
        Case("reset", lambda: body({"endpoint": "reset", "data": {"options": None}}), B, "forwarded"),
        *COMMON_ERRORS,
        Case("error_nested_observation", lambda: get_action(nested()), B, "Gr00tPolicy's layout"),
        Case(
            "error_language_prefixed",
            lambda: get_action(
                {**{k: v for k, v in flat().items() if k != LANGUAGE}, f"language.{LANGUAGE}": [TEXT]}
            ),
            B,
            "language under language.<key>",
        ),
        Case(
            "error_language_nested_lists",
            lambda: get_action(flat(**{LANGUAGE: [[TEXT]]})),
            B,
            "flat language as [[text]]",
        ),
        Case(
            "error_state_float64",
            lambda: get_action(flat(**{"state.waist": np.zeros((1, 1, 3), np.float64)})),
            B,
            "state arrays must be float32",
        ),
        Case("kill", lambda: body({"endpoint": "kill"}), B, "nil"),
    ],
    "no_strict": [
        Case("get_action", lambda: get_action(nested()), S, "nested observation"),
        Case(
            "get_action_state_float64",
            lambda: get_action(nested(state=_state(dtype=np.float64))),
            S,
            "accepted without the checks",
        ),
        Case("error_flat_observation", lambda: get_action(flat()), B, "fails on the missing 'video' map"),
        Case("error_state_width", lambda: get_action(nested(state=_state(left_arm=6))), B, "still refused"),
        Case("kill", lambda: body({"endpoint": "kill"}), B, "nil"),
    ],
    "sim_no_strict": [
        Case("get_action", lambda: get_action(flat()), S, "flat observation"),
        Case("error_nested_observation", lambda: get_action(nested()), B, "the wrapper still checks"),
        Case(
            "error_state_float64",
            lambda: get_action(flat(**{"state.waist": np.zeros((1, 1, 3), np.float64)})),
            B,
            "the wrapper's own check, strict whatever --no-strict says",
        ),
        Case("kill", lambda: body({"endpoint": "kill"}), B, "nil"),
    ],
}

# Variants of the server's command line for ServerConfig; the role's own commands come first.
ARGV_VARIANTS: list[list[str]] = [
    ["--model_path", "/m", "--embodiment_tag", "UNITREE_G1", "--use_sim_policy_wrapper", "--no_strict"],
    ["--model-path", "/m", "--embodiment-tag", "UNITREE_G1", "--no-strict"],
    ["--model-path=/m", "--port=6000", "--host=127.0.0.1"],
    ["--model-path", "/m", "--strict", "--no-strict"],
    ["--model-path", "/m", "--no-strict", "--strict"],
    ["--model-path", "/m", "--no-use-sim-policy-wrapper"],
    ["--model-path", "/m", "--model-path", "/n"],
    ["--model-path", "None", "--execution-horizon", "None"],
    [
        "--model-path",
        "/m",
        "--dataset-path",
        "/d",
        "--modality-config-path",
        "/c.json",
        "--execution-horizon",
        "8",
    ],
    ["--model-path", "/m", "--port", "-1", "--device", "cuda:1"],
    [],
    ["--model-path", "/m", "--embodiment-tag", "unitree_g1"],
    ["--model-path", "/m", "--embodiment-tag", "UNITREE-G1"],
    ["--model-path", "/m", "--api-token", "secret"],
    ["--model", "/m"],
    ["--model-path", "/m", "--use-sim"],
    ["--model-path", "/m", "--strict", "False"],
    ["--model-path", "/m", "--port", "abc"],
    ["--model-path", "/m", "--port", "0x10"],
    ["--model-path"],
    ["--model-path", "/m", "extra"],
    ["--help"],
]


def record(upstream: Upstream, out_dir: Path) -> list[Path]:
    for stale in out_dir.glob("*.msgpack"):
        stale.unlink()
    written: list[Path] = []
    entries: list[dict[str, Any]] = []
    servers: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="groot-ops-record-server-"))
    try:
        model = make_upstream_checkpoint(upstream, work / "checkpoint")
        for mode, flags in server_fixtures.MODES.items():
            with upstream_server(upstream, model, *flags) as server:
                servers[mode] = {
                    "flags": flags,
                    "startup": _placeholders(server.startup_lines, model, server.port),
                }
                for case in CASES[mode]:
                    request = case.request()
                    reply = policy_wire.exchange("127.0.0.1", server.port, request, timeout_s=120)
                    stem = f"{mode}.{case.name}"
                    for suffix, data in (("request", request), ("reply", reply)):
                        path = out_dir / f"{stem}.{suffix}.msgpack"
                        path.write_bytes(data)
                        written.append(path)
                    entries.append(
                        {
                            "server": mode,
                            "name": case.name,
                            "endpoint": case.endpoint,
                            "what": case.what,
                            "compare": case.compare,
                            "request": f"{stem}.request.msgpack",
                            "reply": f"{stem}.reply.msgpack",
                            "reply_decoded": server_fixtures.readable(reply),
                        }
                    )
                server.process.wait(timeout=30)  # kill was the last case
                servers[mode]["exit_code"] = server.process.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {"upstream_commit": PINNED_COMMIT, "image_size": list(IMAGE), "task": TEXT}
    index = {"recorded_from": meta, "servers": servers, "exchanges": entries}
    written.append(_write_json(out_dir / "exchanges.json", index))
    written.append(_write_json(out_dir / "server_config.json", _server_config(upstream)))
    return written


def _placeholders(lines: list[str], model: Path, port: int) -> list[str]:
    """Start-up lines with the run's own values replaced; transformers' note that torchvision is
    missing is dropped (it comes from our stub environment, not from a real install)."""
    kept = [line for line in lines if "torchvision" not in line]
    return [line.replace(str(model), "<MODEL_DIR>").replace(str(port), "<PORT>") for line in kept]


def _server_config(upstream: Upstream) -> dict[str, Any]:
    commands = {
        "default": rendered_server_command(),
        "sim_policy_wrapper": rendered_server_command(groot_server_use_sim_policy_wrapper=True),
    }
    argvs = [server_argv(c) for c in commands.values()] + ARGV_VARIANTS
    parses = upstream.run_json("server_config_parse.py", json.dumps(argvs))
    return {"role_commands": commands, "parses": parses, "ready_line_prefix": READY}


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path

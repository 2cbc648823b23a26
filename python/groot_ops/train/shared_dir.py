"""Do all training nodes see one checkpoint directory? Multi-node n1.6.1 needs them to.

With more than one GPU upstream trains under DeepSpeed ZeRO-2 (gr00t/experiment/experiment.py), and HF
Trainer saves only on global rank 0 (``args.should_save``): ``trainer_state.json``, the weights and the
rotation happen on the first node, each rank's optimizer shards on its own node. A node whose
``output_dir`` is not the first node's holds checkpoint-N directories without ``trainer_state.json``:
its trainer cannot resume (``FileNotFoundError``), and nothing ever rotates them, so its disk fills.
groot-ops refuses such a run before launching it: the first node writes a marker with a fresh token into
its ``output_dir`` and every node must read that token back from its own.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_json
from groot_ops.errors import ConfigError

MARKER = ".groot-ops-shared-check.json"


def mark(directory: str, token: str, *, check: bool = False) -> dict[str, Any]:
    """Write the marker (a probe, not managed state: it reports ``changed`` False)."""
    root = Path(directory)
    path = root / MARKER
    if check and not root.is_dir():
        return {"changed": False, "path": str(path), "marked": False, "msg": f"{root} does not exist yet"}
    root.mkdir(parents=True, exist_ok=True)
    write_json(path, {"token": token, "host": socket.gethostname()})
    return {"changed": False, "path": str(path), "marked": True}


def verify(directory: str, token: str, *, node: str, first_node: str, check: bool = False) -> dict[str, Any]:
    """The marker's token as this node reads it; :class:`ConfigError` when it is not the first node's."""
    path = Path(directory) / MARKER
    if check and not Path(directory).is_dir():
        return {"changed": False, "path": str(path), "shared": None, "msg": "not checked: no directory yet"}
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = None
    seen = found.get("token") if isinstance(found, dict) else None
    if seen == token:
        return {"changed": False, "path": str(path), "shared": True}
    what = "no marker" if found is None else f"a marker from another run (host {found.get('host')})"
    raise ConfigError(
        f"training node {node} does not share the checkpoint directory with the first node {first_node}: "
        f"{path} holds {what}. With several GPUs Isaac-GR00T trains under DeepSpeed ZeRO-2 and only global "
        "rank 0 (on the first node) writes trainer_state.json and rotates checkpoints, so a node with its "
        "own directory cannot resume and fills its disk. Mount the same directory (NFS or similar) at "
        "finetune_output_dir on every training host, or train on one host."
    )

"""A tiny action-chunk policy: normalized state + task embedding -> 30 x 23 normalized actions.

The torch module is built only inside the trainer; the server evaluates the same weights with numpy.
"""

from __future__ import annotations

import numpy as np

from gr00t.data.embodiment import ACTION_HORIZON

EMBED_DIM = 8
HIDDEN_DIM = 64
UNKNOWN_TASK = "<unknown task>"


def model_config(*, state_dim: int, action_dim: int, tasks: list[str], base_model: str) -> dict:
    return {
        "model_type": "Gr00tN1d6",
        "architectures": ["Gr00tN1d6"],
        "standin": True,
        "base_model_path": base_model,
        "state_dim": state_dim,
        "action_dim": action_dim,
        "action_horizon": ACTION_HORIZON,
        "embed_dim": EMBED_DIM,
        "hidden_dim": HIDDEN_DIM,
        "task_vocab": [*tasks, UNKNOWN_TASK],
    }


def build_torch_policy(config: dict):
    import torch
    from torch import nn

    class ChunkPolicy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.task_embedding = nn.Embedding(len(config["task_vocab"]), config["embed_dim"])
            self.fc1 = nn.Linear(config["state_dim"] + config["embed_dim"], config["hidden_dim"])
            self.fc2 = nn.Linear(config["hidden_dim"], config["hidden_dim"])
            self.head = nn.Linear(config["hidden_dim"], config["action_horizon"] * config["action_dim"])

        def forward(self, state: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
            x = torch.cat([state, self.task_embedding(task)], dim=-1)
            x = nn.functional.silu(self.fc1(x))
            x = nn.functional.silu(self.fc2(x))
            return self.head(x).view(-1, config["action_horizon"], config["action_dim"])

    return ChunkPolicy()


def _silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def numpy_forward(
    weights: dict[str, np.ndarray], config: dict, state: np.ndarray, task: np.ndarray
) -> np.ndarray:
    """The same computation as ``ChunkPolicy.forward`` for (B, state_dim) normalized states."""
    x = np.concatenate([state, weights["task_embedding.weight"][task]], axis=-1)
    x = _silu(x @ weights["fc1.weight"].T + weights["fc1.bias"])
    x = _silu(x @ weights["fc2.weight"].T + weights["fc2.bias"])
    out = x @ weights["head.weight"].T + weights["head.bias"]
    return out.reshape(-1, config["action_horizon"], config["action_dim"]).astype(np.float32)


def task_ids(config: dict, texts: list[str]) -> np.ndarray:
    vocab = config["task_vocab"]
    return np.asarray([vocab.index(t) if t in vocab else len(vocab) - 1 for t in texts], dtype=np.int64)

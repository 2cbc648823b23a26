"""Replace only model loading and inference of upstream's ``Gr00tPolicy``; everything else stays real.

Imported (``install()``) by our scripts that run in upstream's interpreter before ``gr00t.policy`` is used.
What is replaced, and why it is safe:

- ``transformers.AutoModel.from_pretrained`` returns ``FakeGr00tModel`` instead of the 3B Gr00tN1d6
  weights (which need a GPU, flash-attn and ~9 GB). ``Gr00tPolicy`` calls ``eval()``, ``to()`` and
  ``get_action(inputs=...)`` on it and uses only ``action_pred`` of the answer, so the fake answers a
  deterministic ``action_pred`` of the real model's shape (B, max_action_horizon, max_action_dim) in
  bfloat16, computed from the normalized state and the prompt the real processor produced.
- The VLM input encoding in ``Gr00tN1d6DataCollator`` (the Eagle tokenizer and its torchvision image
  processor, whose output only the model reads): the collator's real code still stacks ``state`` and
  ``embodiment_id``; the ``vlm_content`` entries (the real processor's chat-templated prompt and images)
  are handed to the fake model as ``vlm_text`` and ``vlm_image_sizes`` instead of token ids and pixels.

Real and unchanged: ``run_gr00t_server.py`` with tyro's ``ServerConfig``, ``PolicyServer`` and its
``MsgSerializer``, ``Gr00tPolicy`` (observation checks, unbatching, language handling, action checks),
``Gr00tSimPolicyWrapper``, ``Gr00tN1d6Processor`` loaded from the checkpoint (modality configs,
statistics, state normalization, albumentations image transforms, chat template) and its
``decode_action`` / ``StateActionProcessor.unapply_action`` (unnormalization, relative arm actions
made absolute with the state sent).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

STUBS = Path(__file__).resolve().parent / "stubs"
FAKE_MARKER = "groot_ops_fake_model"


def add_stubs() -> None:
    """Put our stubs (torchvision) on the path, after everything real: an installed package wins."""
    if importlib.util.find_spec("torchvision") is None and str(STUBS) not in sys.path:
        sys.path.append(str(STUBS))


def install() -> None:
    add_stubs()
    import torch
    import transformers
    from gr00t.model.gr00t_n1d6 import processing_gr00t_n1d6

    class FakeGr00tModel(torch.nn.Module):
        """Deterministic stand-in for Gr00tN1d6: action_pred from the normalized state and the prompt."""

        def __init__(self, config: dict[str, Any]) -> None:
            super().__init__()
            self.config = config
            self.calls = 0

        def get_action(self, inputs: dict[str, Any]) -> dict[str, torch.Tensor]:
            state = inputs["state"]  # (B, 1, max_state_dim), the real processor's normalized state
            horizon, width = self.config["max_action_horizon"], self.config["max_action_dim"]
            if state.ndim != 3 or state.shape[-1] != self.config["max_state_dim"]:
                raise ValueError(f"fake model: state of shape {tuple(state.shape)} reached the model")
            steps = torch.arange(horizon, dtype=torch.float32)[:, None]
            dims = torch.arange(width, dtype=torch.float32)[None, :]
            pattern = 0.6 * torch.sin(0.3 * (steps + 1.0) + 0.7 * (dims + 1.0))
            level = torch.tanh(state.float().mean(dim=(1, 2)))  # (B,)
            prompt = torch.tensor(
                [(sum(map(ord, text)) % 97) / 970.0 for text in inputs["vlm_text"]], dtype=torch.float32
            )
            pred = pattern[None] + 0.2 * level[:, None, None] + prompt[:, None, None]
            self.calls += 1
            return {"action_pred": pred.clamp(-1.0, 1.0).to(torch.bfloat16)}

    def from_pretrained(cls: Any, path: Any, *args: Any, **kwargs: Any) -> FakeGr00tModel:
        config = json.loads((Path(path) / "config.json").read_text())
        if not config.get(FAKE_MARKER):
            raise ValueError(f"{path}/config.json is not a groot-ops fake checkpoint")
        return FakeGr00tModel(config)

    transformers.AutoModel.from_pretrained = classmethod(from_pretrained)

    collator = processing_gr00t_n1d6.Gr00tN1d6DataCollator
    real_call = collator.__call__

    def collate(self: Any, features: list[dict[str, Any]]) -> Any:
        vlm = [f["vlm_content"] for f in features]
        rest = [{k: v for k, v in f.items() if k != "vlm_content"} for f in features]
        batch = real_call(self, rest)
        batch["inputs"]["vlm_text"] = [v["text"] for v in vlm]
        batch["inputs"]["vlm_image_sizes"] = [[img.size for img in v["images"]] for v in vlm]
        return batch

    collator.__call__ = collate

"""The policy module (stand-in of upstream's gr00t/policy/gr00t_policy.py, home of ``Gr00tPolicy``).
Like upstream's it imports torch and the model at module level, so importing it proves the env can
load a checkpoint's policy."""

from __future__ import annotations

import numpy as np  # noqa: F401
import torch  # noqa: F401  (module-level on purpose, as upstream)

from gr00t.model.policy import build_torch_policy, model_config

__all__ = ["build_torch_policy", "model_config"]

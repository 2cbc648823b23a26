"""A placeholder ``torchvision`` for the data scripts, until the shared stubs/ package is on the path.

Upstream's ``gr00t/utils/video_utils.py`` imports torchvision at module level but uses it only on its
``torchvision_av`` backend, which the data scripts never select. torchvision does not install beside
the CPU torch of upstream's venv here. Importing this module installs an empty module under that name
only when no torchvision (real or the shared stub) can be imported; touching any attribute of it
fails loudly, so a path that does use torchvision cannot pass silently.
"""

from __future__ import annotations

import importlib
import sys
import types


def install() -> None:
    try:
        importlib.import_module("torchvision")
        return
    except ImportError:
        pass

    class _Missing(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            if name.startswith("__"):
                raise AttributeError(name)
            raise RuntimeError(f"torchvision.{name} used: the data scripts' placeholder has none")

    sys.modules["torchvision"] = _Missing("torchvision")


install()

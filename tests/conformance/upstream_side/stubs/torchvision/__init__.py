"""groot-ops stub of `torchvision`: import-only placeholders (stubs/README.md)."""

from _groot_stub import module_getattr

__version__ = "0.0.0+groot.ops.stub"

__getattr__ = module_getattr("torchvision")

"""groot-ops stub of `torchvision.io`: import-only placeholders (stubs/README.md)."""

from _groot_stub import module_getattr

__getattr__ = module_getattr("torchvision.io")

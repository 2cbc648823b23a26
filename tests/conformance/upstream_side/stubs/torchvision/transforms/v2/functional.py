"""groot-ops stub of `torchvision.transforms.v2.functional`: import-only placeholders (stubs/README.md)."""

from _groot_stub import module_getattr

__getattr__ = module_getattr("torchvision.transforms.v2.functional")

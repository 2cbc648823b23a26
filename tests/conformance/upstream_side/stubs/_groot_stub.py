"""Placeholders for a package that is only imported, never used, on the paths the conformance suite runs.

Every attribute of a stubbed module is a placeholder class: it can be looked up, chained (``A.B.C``),
subclassed and used in annotations (``A | B``), but calling it (or instantiating it) raises ``StubUsed``
naming the attribute. A path that really needs the package therefore fails loudly in the suite instead
of passing on a stub.
"""

from __future__ import annotations

from typing import Any


class StubUsed(RuntimeError):
    """A stubbed package was called: the path under test is not one the stub is safe for."""


class _PlaceholderMeta(type):
    def __getattr__(cls, attr: str) -> type:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return placeholder(f"{cls.__qualname__}.{attr}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise StubUsed(
            f"{cls.__qualname__} was called, but it is a groot-ops conformance stub "
            "(tests/conformance/upstream_side/stubs): this path needs the real package"
        )


def placeholder(qualname: str) -> type:
    cls = _PlaceholderMeta(qualname.rsplit(".", 1)[-1], (), {"__module__": qualname.rsplit(".", 1)[0]})
    cls.__qualname__ = qualname
    return cls


def module_getattr(module_name: str):
    """A module-level ``__getattr__`` handing out placeholders under ``module_name``."""

    def __getattr__(attr: str) -> type:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return placeholder(f"{module_name}.{attr}")

    return __getattr__

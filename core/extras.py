"""Optional extras: libraries some exports need that the default install leaves out."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(Exception):
    """An optional library is not installed; ``str()`` is one line saying how to install it."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """``module`` imported, or `MissingExtra` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.split(".")[0]
        raise MissingExtra(
            f"{purpose} needs {top}, which is not installed: pip install 'imrgold[{extra}]'"
        ) from err

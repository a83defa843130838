"""A module that can be called as its main function: ``orgsim.sweep(...)``, ``orgsim.frontier(...)``.

``import orgsim.sweep`` sets the attribute ``orgsim.sweep`` to the module (the
import system does so for every submodule), where ``orgsim``'s lazy attribute
first gave the function. Calling the module calls the function, so both work.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["callable_module"]


class _CallableModule(types.ModuleType):
    __main_function__: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__main_function__(*args, **kwargs)


def callable_module(name: str, function: Callable[..., Any]) -> None:
    """Make the module ``name`` callable as ``function``."""
    module = sys.modules[name]
    module.__class__ = _CallableModule
    module.__main_function__ = function  # type: ignore[attr-defined]  # ModuleType declares no such attribute

"""Start-up: modules singer-sdk imports on every start but a tap never uses, loaded on use.

``import singer_sdk`` imports the Target base class (which imports ``joblib``), the BATCH
helpers (``upath``, which imports ``fsspec``) and ``msgspec`` imports its ``inspect``
module: about 60 ms of CPU on every start (a third of ``--about``), for code this tap
never runs (it is no target and has no BATCH capability). :func:`defer_unused_modules`
puts a stand-in for each in ``sys.modules`` before singer-sdk is imported. A stand-in
hands out placeholders for the names imported from it; the first real use of one (a
call, an attribute) imports the real module, replaces the stand-in and delegates, so
anything that does use them still works, only later. The SDK itself is not changed.

Only names that are merely imported at start-up are deferred; ``tests/test_lazy_imports.py``
checks that ``--about`` and a run do not load them and that a deferred name still works.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

#: Modules deferred: imported by singer-sdk (or msgspec) at start-up, used only by targets,
#: BATCH messages or type introspection.
DEFERRED = ("joblib", "upath", "msgspec.inspect")


def _real(name: str) -> types.ModuleType:
    """The real module ``name``, imported now in place of its stand-in."""
    current = sys.modules.get(name)
    if isinstance(current, DeferredModule):
        del sys.modules[name]
        module = importlib.import_module(name)
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules:
            setattr(sys.modules[parent], child, module)
        return module
    return importlib.import_module(name)


class DeferredName:
    """A name imported from a deferred module; its first use imports the module."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    def _target(self) -> Any:
        return getattr(_real(self._module), self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the real object (importing its module first)."""
        return self._target()(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._target(), attribute)

    def __repr__(self) -> str:
        return f"<deferred {self._module}.{self._name}>"


class DeferredModule(types.ModuleType):
    """Stands in for a module until one of its names is really used."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probing (``__path__``...): not a name
            raise AttributeError(name)
        return DeferredName(self.__name__, name)


def defer_unused_modules() -> None:
    """Install the stand-ins (before singer-sdk is imported; harmless afterwards)."""
    for name in DEFERRED:
        if name in sys.modules:
            continue
        parent = name.rpartition(".")[0]
        if parent and parent in sys.modules:
            continue  # the parent already imported its real submodule
        if importlib.util.find_spec(name.partition(".")[0]) is None:
            continue  # not installed: nothing to defer
        stand_in = DeferredModule(name)
        sys.modules[name] = stand_in

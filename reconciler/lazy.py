"""Modules that load on first use: ``defer_import`` registers a module so that importing it
costs nothing until one of its attributes is read. The CLI defers the heavy parts of gridops
this way, so ``gridops --help`` and ``--version`` start in a blink and each command loads
only what it uses.

Only ``from package import module`` keeps a deferred module unloaded: a plain ``import name``
statement reads the module's ``__spec__`` (Python 3.11), which loads it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def defer_import(name: str) -> ModuleType:
    """``name`` as a module that runs its code when first used (at once when it is already
    loaded, or cannot be found: then the ordinary import reports it)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return importlib.import_module(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # so `from parent import child` finds it without touching it
        setattr(sys.modules[parent], child, module)
    return module


def is_loaded(name: str) -> bool:
    """Whether ``name``'s code has run (a deferred module that nothing used has not)."""
    module = sys.modules.get(name)
    return module is not None and type(module) is ModuleType

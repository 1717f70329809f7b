"""Every baseline by name: the built-in ones and any a user registered.

The built-ins register themselves in :data:`emosign.baselines.registry.REGISTRY` when their
modules are imported; importing this module imports them, so that the lookups below see them.
"""

from __future__ import annotations

# The built-in baselines register themselves on import.
from emosign.baselines import floors, registry, text, visual_models  # noqa: F401
from emosign.baselines.registry import Baseline
from emosign.errors import InputError

__all__ = ["all_baselines", "get_baseline"]


def get_baseline(name: str) -> Baseline:
    """The registered baseline called ``name``.

    Raises
    ------
    InputError
        If no baseline has that name; the message lists the registered ones.
    """
    try:
        # Looked up on the module each time: a test may swap the registry for a copy.
        return registry.REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown baseline {name!r}; registered: {sorted(registry.REGISTRY)}") from None


def all_baselines() -> tuple[Baseline, ...]:
    """Every registered baseline, the built-ins first, in registration order."""
    return tuple(registry.REGISTRY.values())

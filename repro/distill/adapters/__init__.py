"""Head adapters by mmdet head class name: `adapter_for(head)` picks the one for a built head.

A new adapter subclasses `HeadAdapter`, names its heads in `heads`, takes the `@register` decorator and is
imported at the bottom of this module; the adapter tests then cover it automatically.
"""
from __future__ import annotations

from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets
from repro.errors import ReproError

#: mmdet head class name -> adapter class
ADAPTERS: dict[str, type[HeadAdapter]] = {}
#: mmdet head class name -> why there is no adapter yet (FIDELITY.md, "Not supported yet")
NOT_SUPPORTED = {
    'TOODHead': ('its task-decomposition modules read the outputs of every layer of one shared inter_convs stack, so a '
                 'cross-forward from layer i would need the other head\'s layers < i too; the two-tower adapter model '
                 'has no such feature (FIDELITY.md, "Not supported yet: TOOD")'),
}


def register(cls: type[HeadAdapter]) -> type[HeadAdapter]:
    """Class decorator: file `cls` under each head name in `cls.heads`."""
    if not cls.heads:
        raise ValueError(f'{cls.__name__} names no heads to serve')
    for name in cls.heads:
        ADAPTERS[name] = cls
    return cls


def adapter_for(head) -> HeadAdapter:
    """The adapter for a built mmdet dense head, looked up by the head's class name."""
    name = type(head).__name__
    if name in NOT_SUPPORTED:
        raise ReproError(f'{name} is not supported for distillation yet: {NOT_SUPPORTED[name]}')
    if name not in ADAPTERS:
        raise ReproError(f'no distillation adapter for head {name}; supported heads: {", ".join(sorted(ADAPTERS))}')
    return ADAPTERS[name](head)


# imported for their @register side effect; after `register` exists, since they import it from here
from repro.distill.adapters import atss, autoassign, ddod, fcos, gfl, retina, rtmdet, yolox  # noqa: E402,F401

__all__ = ['ADAPTERS', 'NOT_SUPPORTED', 'HeadAdapter', 'HeadOutputs', 'Targets', 'adapter_for', 'register']

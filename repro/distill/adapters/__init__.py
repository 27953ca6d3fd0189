"""Head adapters by mmdet head class name: `adapter_for(head)` picks the one for a built head.

A new adapter subclasses `HeadAdapter` in a module of its own, names its heads in `heads` and joins the list below;
the adapter tests then cover it automatically.
"""
from __future__ import annotations

from repro.distill.adapters.atss import ATSSAdapter
from repro.distill.adapters.autoassign import AutoAssignAdapter
from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets
from repro.distill.adapters.ddod import DDODAdapter
from repro.distill.adapters.fcos import FCOSAdapter
from repro.distill.adapters.gfl import GFLAdapter
from repro.distill.adapters.retina import RetinaAdapter
from repro.distill.adapters.rtmdet import RTMDetAdapter
from repro.distill.adapters.tood import TOODAdapter
from repro.distill.adapters.yolox import YOLOXAdapter
from repro.errors import ReproError


def _by_head(adapters) -> dict[str, type[HeadAdapter]]:
    """mmdet head class name -> adapter class, for each head an adapter names in `heads`."""
    found = {}
    for cls in adapters:
        if not cls.heads:
            raise ValueError(f'{cls.__name__} names no heads to serve')
        found.update(dict.fromkeys(cls.heads, cls))
    return found


ADAPTERS = _by_head((RetinaAdapter, ATSSAdapter, GFLAdapter, DDODAdapter, FCOSAdapter, AutoAssignAdapter,
                     RTMDetAdapter, YOLOXAdapter, TOODAdapter))


def adapter_for(head) -> HeadAdapter:
    """The adapter for a built mmdet dense head, looked up by the head's class name."""
    name = type(head).__name__
    if name not in ADAPTERS:
        raise ReproError(f'no distillation adapter for head {name}; supported heads: {", ".join(sorted(ADAPTERS))}')
    return ADAPTERS[name](head)


__all__ = ['ADAPTERS', 'HeadAdapter', 'HeadOutputs', 'Targets', 'adapter_for']

"""Garbage collection paused while a big, acyclic object graph is built in one go."""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No collection inside the block (restored after, as it was).

    Loading or deciding a 20,000-step workflow makes ~10 objects per step that all stay
    alive; collections meanwhile would walk them again and again and free nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""The garbage collector during a command's start-up: paused while the engine loads.

Start-up allocates tens of thousands of objects that live as long as the process (modules,
classes, functions); the collector's passes over them free nothing and cost milliseconds each.
"""

from __future__ import annotations

import gc

__all__ = ["pause_collector", "resume_collector"]


def pause_collector() -> None:
    """No collections until :func:`resume_collector` (call it on every path that goes on)."""
    gc.disable()


def resume_collector() -> None:
    """Collections again, with everything that exists now frozen out of them: it was loaded to
    last, and a short-lived command never frees it."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()

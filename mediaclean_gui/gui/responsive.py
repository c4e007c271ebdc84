"""Keep the GUI thread beating while workers hold the GIL: the interpreter's switch interval and GC policy.

Measured with ``tests/benchmarks/bench_gui_stall.py`` (100,000-file scan, temp plan and run):
the GUI thread's long gaps came from two interpreter defaults, not from the window's own work.

* The GIL is handed over every 5 ms (``sys.getswitchinterval()``): each time the GUI thread
  needs it (a timer, a progress slot, a paint) it may wait that long behind a busy worker, and
  one event-loop turn needs it several times. 1 ms cuts those waits; workers lose a little.
* A full (generation 2) garbage collection walks every tracked object with the GIL held,
  whichever thread triggers it: with the start-up objects (Qt, botocore's models) and a
  100,000-item plan in memory that is one pause of 100 ms and more. The start-up objects are
  frozen once (``gc.freeze``: never walked again), and full collections are made rarer (they
  still run; most garbage here is freed by reference counting anyway).

And one cost of PySide itself: it makes the Python type of each Qt widget class (with its enums) when it is
first needed, and the first plain ``QWidget`` that Python is handed (a view's viewport) makes it resolve
the whole widget hierarchy: 15-30 ms at once, 38 enums of wizards, dialogs and tab bars. Left to itself
that happened as the projects arrived, on top of their layout (the window's longest stall on opening);
:func:`resolve_widget_types` pays it in the idle moment after the first paint instead.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtWidgets import QAbstractScrollArea

SWITCH_INTERVAL = 0.001
#: Young-generation collections between two full collections (CPython's default is 10).
GEN2_THRESHOLD = 1000

_applied = False


def keep_gui_responsive() -> None:
    """Apply the policy above once per process (the window calls it when it is built)."""
    global _applied
    if _applied:
        return
    _applied = True
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, GEN2_THRESHOLD)


def resolve_widget_types(view: QAbstractScrollArea) -> None:
    """Make PySide resolve Qt's widget types now (see above): called once the window has painted, while the
    catalog is read in workers."""
    view.viewport()

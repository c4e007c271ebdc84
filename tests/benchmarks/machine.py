"""What every benchmark prints about the machine it ran on, so figures from different days can be compared.

The machines these benchmarks run on are shared virtual machines whose speed changes from day to day (seen:
the same code, the same tree, 6.6 CPU seconds one day and 10.4 the next). ``rm -r`` and ``du`` mostly wait on
the kernel and the disk; mediaclean's side is Python on the CPU, so a slow day worsens every ratio. The probe
is a fixed pure-Python loop: its seconds say how fast this machine runs Python right now.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

#: the probe's loop length: about 1 s where CPython 3.11 runs at full speed on a current x86 core
PROBE_LOOP = 20_000_000


def python_speed(repeat: int = 3) -> float:
    """Median CPU seconds of a fixed pure-Python loop (:data:`PROBE_LOOP` additions)."""
    runs = []
    for _ in range(repeat):
        started = time.process_time()
        total = 0
        for i in range(PROBE_LOOP):
            total += i
        runs.append(time.process_time() - started)
    return statistics.median(runs)


def describe() -> str:
    """One line: CPUs, Python, and the probe's seconds."""
    return (f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; Python speed probe "
            f"{python_speed():.2f} s ({PROBE_LOOP:,} additions; lower is faster)")

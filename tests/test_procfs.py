"""The /proc helpers that the fault tests pick their victims with, on a real
multiprocessing spawn pool (no media, no models: about a second)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from procfs import children, pool_workers

# A parent like facecut's: a spawn-context lock (which starts multiprocessing's
# resource tracker, a second kind of child with "multiprocessing" in its command
# line) and a pool of 2 spawned workers; it prints the workers' and the tracker's
# pids and waits for its stdin to close.
_PARENT = """
import multiprocessing, sys
from multiprocessing import resource_tracker
context = multiprocessing.get_context("spawn")
lock = context.RLock()
pool = context.Pool(2)
pool.map(abs, [1, 2])
tracker = resource_tracker._resource_tracker._pid
print(*sorted(p.pid for p in pool._pool), tracker, flush=True)
sys.stdin.read()
pool.terminate()
"""


def test_pool_workers_are_the_spawned_workers_never_the_resource_tracker():
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        *workers, tracker = map(int, parent.stdout.readline().split())
        assert len(workers) == 2 and tracker not in workers
        assert pool_workers(parent.pid) == workers
        # the tracker is a direct child too, and a plain "multiprocessing" match on
        # the command line would have picked it
        assert set(children(parent.pid)) >= {*workers, tracker}
        assert b"multiprocessing" in Path(f"/proc/{tracker}/cmdline").read_bytes()
        assert pool_workers(tracker) == [] and pool_workers(workers[0]) == []
    finally:
        parent.communicate(input="", timeout=30)
    assert parent.returncode == 0

"""Run a command and measure the peak memory and the CPU time of its process tree
(every process that was waited for: workers, decoders, encoders)."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

# ru_maxrss over waited-for descendants: the largest resident set of any single
# process in the tree (KiB on Linux), so each command is measured on its own; user +
# system time over the same processes (workers, decoders, encoders: all are waited for).
_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("cpu_seconds", usage.ru_utime + usage.ru_stime, file=sys.stderr)
print("peak_rss_kib", usage.ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


@dataclass(frozen=True)
class Measured:
    process: subprocess.CompletedProcess
    peak_mib: float
    cpu_seconds: float


def measure(command: list[str], **kwargs) -> Measured:
    """Run `command` (stdout/stderr captured as text); return it, its peak RSS in MiB
    and the CPU seconds of it and every descendant."""
    process = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True,
                             text=True, **kwargs)
    *_, cpu_line, rss_line = process.stderr.strip().splitlines()
    return Measured(process, int(rss_line.split()[-1]) / 1024, float(cpu_line.split()[-1]))


def peak_rss_mib(command: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    """Run `command` (stdout/stderr captured as text); return it and its peak RSS in MiB."""
    measured = measure(command, **kwargs)
    return measured.process, measured.peak_mib

"""Run a command and measure the peak memory of its whole process tree."""
from __future__ import annotations

import subprocess
import sys

# ru_maxrss over waited-for descendants: the largest resident set of any single
# process in the tree (KiB on Linux), so each command is measured on its own.
_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print("peak_rss_kib", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def peak_rss_mib(command: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    """Run `command` (stdout/stderr captured as text); return it and its peak RSS in MiB."""
    process = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True,
                             text=True, **kwargs)
    last = process.stderr.strip().splitlines()[-1]
    return process, int(last.split()[-1]) / 1024

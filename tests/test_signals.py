"""Ctrl-C and SIGTERM stop every worker and ffmpeg child promptly, keep nothing partial."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from procfs import (children, describe_processes, is_ffmpeg, left_in_group, pool_workers,
                    processes_in_group)

pytestmark = [pytest.mark.media, pytest.mark.slow]


def start(montage, reference, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(montage.path),
         "--reference", str(reference), "--output", str(out), "--num_processes", "2", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for_workers(process: subprocess.Popen, workers: int = 2, limit: float = 60) -> None:
    """Until each of the `workers` pool workers (procfs.pool_workers: not the
    resource tracker, which a count of the group's processes would include) is
    decoding its chunk, i.e. has its ffmpeg decoder running."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = pool_workers(process.pid)
        if len(found) == workers and all(any(is_ffmpeg(child) for child in children(pid))
                                         for pid in found):
            time.sleep(1)  # frames flowing
            return
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.2)
    raise AssertionError(f"the workers were never all scanning; running: "
                         f"{describe_processes(processes_in_group(process.pid))}")


@pytest.mark.parametrize("signum, to_group, code", [
    (signal.SIGINT, True, 130),    # Ctrl-C in a terminal signals the whole group
    (signal.SIGTERM, False, 143),  # kill PID signals only the parent
])
def test_signal_during_scan(montage, reference, tmp_path, signum, to_group, code):
    out = tmp_path / "out"
    process = start(montage, reference, out)
    wait_for_workers(process)
    sent = time.monotonic()
    if to_group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert time.monotonic() - sent < 5
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("error: interrupted")
    left = left_in_group(process.pid)
    assert left == [], f"orphaned worker or ffmpeg processes: {describe_processes(left)}"
    assert not out.exists(), "a folder the run created is left behind"

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

pytestmark = [pytest.mark.media, pytest.mark.slow]


def processes_in_group(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def left_in_group(pgid: int, grace: float = 5.0) -> list[int]:
    """The group's processes still there `grace` seconds after its leader exited.
    The grace is for processes that end by themselves once the leader is gone:
    multiprocessing's resource tracker exits only when its parent's pipe closes, so
    it can still be running a few ms after the parent has been reaped."""
    deadline = time.monotonic() + grace
    while processes_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_in_group(pgid)


def describe_processes(pids: list[int]) -> str:
    """What each leftover process is (command line, state, parent), for a failure message."""
    lines = []
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            lines.append(f"{pid}: gone")
            continue
        lines.append(f"{pid} state {stat[0]} parent {stat[1]}: {cmdline[:200]}")
    return "; ".join(lines)


def start(montage, reference, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(montage.path),
         "--reference", str(reference), "--output", str(out), "--num_processes", "2", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for_workers(process: subprocess.Popen, minimum: int = 4, limit: float = 60) -> None:
    """Until the parent, its workers and their ffmpeg decoders are all running."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(processes_in_group(process.pid)) >= minimum:
            time.sleep(2)  # let them get into the scan proper
            return
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.2)
    raise AssertionError("workers did not start")


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

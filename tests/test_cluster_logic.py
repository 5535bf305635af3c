"""The cluster backend's pure decisions: which address to join, which videos some
node cannot read. (No Ray needed.)"""
from __future__ import annotations

import os

import pytest

from facecut.cluster import input_problems, resolve_address
from facecut.errors import ClusterError

ALIVE = {"10.0.0.1:6379", "127.0.0.1:6379"}


def answers(address: str) -> str | None:
    return None if address in ALIVE else "Connection refused"


@pytest.mark.parametrize("requested, recorded, expected", [
    (None, None, "local"),                          # nothing here: start our own
    (None, "127.0.0.1:6379", "127.0.0.1:6379"),     # join the instance running here
    (None, "127.0.0.1:7000", "local"),              # a stale record: start our own
    ("auto", "127.0.0.1:6379", "127.0.0.1:6379"),
    ("10.0.0.1:6379", None, "10.0.0.1:6379"),
    ("10.0.0.1:6379", "127.0.0.1:6379", "10.0.0.1:6379"),  # the user's choice wins
    ("ray://head:10001", None, "ray://head:10001"),  # Ray Client: left to Ray
])
def test_address_to_join(requested, recorded, expected):
    assert resolve_address(requested, recorded, answers) == expected


@pytest.mark.parametrize("requested, recorded, message", [
    ("auto", None, "no Ray cluster runs on this machine;"),
    ("auto", "127.0.0.1:7000", "the one recorded, 127.0.0.1:7000, does not answer"),
    ("10.0.0.9:6379", None, "--ray-address 10.0.0.9:6379: nothing answers there (Connection refused)"),
])
def test_dead_addresses_fail_at_once(requested, recorded, message):
    with pytest.raises(ClusterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_address(requested, recorded, answers)


def test_input_problems_name_the_first_node_that_differs():
    a, b, c = "a.mp4", "dir/b.mp4", "c.mp4"
    full = {path: os.path.abspath(path) for path in (a, b, c)}
    mine = {full[a]: "10:aa", full[b]: "20:bb", full[c]: "30:cc"}
    seen = {
        "10.0.0.1": {full[a]: "10:aa", full[b]: "20:bb", full[c]: "30:cc"},
        "10.0.0.2": {full[a]: "10:aa", full[b]: "error: No such file or directory",
                     full[c]: "31:cd"},
        "10.0.0.3": {full[a]: "10:aa", full[b]: "error: Permission denied"},
    }
    problems = input_problems([a, b, c], mine, seen)
    assert set(problems) == {b, c}
    assert problems[b].startswith(f"{b}: Ray node 10.0.0.2 cannot read {full[b]} "
                                  "(No such file or directory). With --backend ray")
    assert problems[c].startswith(f"{c}: Ray node 10.0.0.2 sees a different file at {full[c]}")
    assert input_problems([a], mine, seen) == {}
    # a node that did not report a path counts as not reading it
    assert "not checked" in input_problems([a], mine, {"n": {}})[a]


# Run in a child whose stdout and stderr are real pipes (pytest's capture objects
# hide the interleaving that a terminal or a pipe shows).
_MANY_VIDEOS = """
import argparse, sys
from types import SimpleNamespace
from facecut import cli
arguments = argparse.Namespace(json=True, debug=False)
jobs = [SimpleNamespace(video=f"/videos/clip-{i:03d}.mp4") for i in range(300)]
class Bar:
    def update(self, _n):
        pass
codes = cli._run_all(jobs, lambda job: cli._run_one(
    None, job, None, None, arguments, True, f"{job.video}: Ray node 10.0.0.2 cannot read it"),
    8, Bar())
sys.exit(0 if codes == [2] * len(jobs) else 3)
"""


def test_videos_finishing_together_never_mix_their_output():
    """With --backend ray, videos finish on several threads at once: every JSON line
    and every error line must come out whole."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    child = subprocess.run([sys.executable, "-c", _MANY_VIDEOS], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert child.returncode == 0, child.stderr
    records = [json.loads(line) for line in child.stdout.splitlines()]  # each line whole
    assert sorted(r["video"] for r in records) == [f"/videos/clip-{i:03d}.mp4" for i in range(300)]
    errors = child.stderr.splitlines()
    assert len(errors) == 300 and all(line.startswith("error: /videos/clip-") and
                                      line.endswith("cannot read it") for line in errors)

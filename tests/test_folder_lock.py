"""A results folder is locked by the run writing it, from before its scan to its commit:
a second run into it is refused at once, naming the holder; a killed run's lock never
blocks the next run (no media, no models)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facecut.errors import OutputError
from facecut.output import LOCK_NAME, ResultsFolder

ROOT = Path(__file__).resolve().parent.parent


def test_a_second_run_into_a_folder_being_written_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "Results" / "talk"
    first = ResultsFolder(out, overwrite=False)
    staging = first.open()
    (staging / "metadata.json").write_text("{}")
    second = ResultsFolder(out, overwrite=True)  # --overwrite does not get past it
    with pytest.raises(OutputError, match="another facecut run is writing results here") as error:
        second.open()
    assert f"pid {os.getpid()}" in str(error.value) and "wait for it" in str(error.value)
    assert str(out) in str(error.value)
    # the refused run left the first one's folder and staging alone
    assert staging.is_dir() and (out / LOCK_NAME).is_file()
    first.commit()
    assert (out / "metadata.json").is_file() and not (out / LOCK_NAME).exists()


def test_after_the_holder_commits_the_next_run_sees_its_results(tmp_path):
    out = tmp_path / "out"
    first = ResultsFolder(out, overwrite=False)
    (first.open() / "metadata.json").write_text("{}")
    first.commit()
    with pytest.raises(OutputError, match="already holds results"):
        ResultsFolder(out, overwrite=False).open()
    again = ResultsFolder(out, overwrite=True)
    again.open()
    again.abort()
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json"]


def test_an_aborted_run_releases_the_folder_and_removes_what_it_created(tmp_path):
    out = tmp_path / "out"
    first = ResultsFolder(out, overwrite=False)
    first.open()
    first.abort()
    assert not out.exists()
    second = ResultsFolder(out, overwrite=False)
    second.open()
    second.abort()


def test_a_killed_runs_lock_never_blocks_a_later_run(tmp_path):
    """A process that holds the lock is killed outright (SIGKILL: no cleanup runs):
    its lock file stays, with its pid in it, but the kernel dropped the lock."""
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from facecut.output import ResultsFolder; "
         "ResultsFolder(Path(sys.argv[1]), False).open(); print('locked', flush=True); "
         "time.sleep(600)", str(out)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputError, match=f"pid {holder.pid}"):
            ResultsFolder(out, overwrite=False).open()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert f"pid {holder.pid}" in (out / LOCK_NAME).read_text()  # left behind, stale
    later = ResultsFolder(out, overwrite=False)
    staging = later.open()
    assert staging.is_dir()
    assert f"pid {os.getpid()}" in (out / LOCK_NAME).read_text()
    later.abort()


def test_the_lock_file_is_not_taken_for_a_result_of_an_earlier_run(tmp_path):
    """A stale lock file alone (a killed run) is not 'results already here'."""
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text(f"pid 999999, started {time.strftime('%F %T')}\n")
    run = ResultsFolder(out, overwrite=False)
    run.open()
    run.abort()

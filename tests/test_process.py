"""Starting children: each command logged as a line bash can run, failures carrying
stderr's tail, and the stop flag that ends every child and starts no new one."""
from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from facecut import process
from facecut.errors import FFmpegError, Interrupted


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def logged() -> Iterator[list[str]]:
    """The DEBUG messages of facecut.process (its own handler: the CLI's logging
    set-up stops `facecut` records from reaching the root logger)."""
    logger = logging.getLogger(process.__name__)
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.messages
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def fresh_children(monkeypatch: pytest.MonkeyPatch) -> process.ChildProcesses:
    """A registry of its own, so stopping it does not stop the rest of the session."""
    children = process.ChildProcesses()
    monkeypatch.setattr(process, "children", children)
    return children


def test_a_command_is_logged_before_it_runs_as_a_line_bash_can_run(logged):
    args = [sys.executable, "-c", "import sys; print(sys.argv[1:])", "a b", "it's", "$HOME", ";x"]
    output = process.run_command(args, "printing")
    assert output.strip() == "['a b', \"it's\", '$HOME', ';x']"
    assert len(logged) == 1
    pasted = subprocess.run(["bash", "-c", logged[0]], capture_output=True, text=True, check=True)
    assert pasted.stdout == output


def test_a_failing_command_raises_with_the_tail_of_its_stderr():
    script = "import sys; sys.stderr.write('one\\ntwo\\n\\nthree\\nfour\\n'); sys.exit(3)"
    with pytest.raises(FFmpegError, match=r"^probing: two \| three \| four$"):
        process.run_command([sys.executable, "-c", script], "probing")


def test_a_missing_program_is_an_ffmpeg_error_not_an_oserror():
    with pytest.raises(FFmpegError, match="cutting: cannot run /no/such/ffmpeg"):
        process.run_command(["/no/such/ffmpeg", "-version"], "cutting")


def test_a_child_killed_from_outside_is_a_crash(fresh_children):
    script = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    with pytest.raises(FFmpegError, match="ffmpeg was killed by SIGKILL"):
        process.run_command([sys.executable, "-c", script], "decoding")
    assert not fresh_children.stopping


def test_a_command_over_its_time_limit_is_killed():
    with pytest.raises(FFmpegError, match="did not finish within 0.5 s"):
        process.run_command([sys.executable, "-c", "import time; time.sleep(30)"], "hung",
                            timeout=0.5)


def test_kill_all_ends_running_children_and_starts_no_new_one(fresh_children, logged):
    sleeper = process.start([sys.executable, "-c", "import time; time.sleep(30)"], "sleeping")
    fresh_children.kill_all()
    sleeper.communicate(timeout=10)
    assert sleeper.returncode == -signal.SIGKILL
    fresh_children.remove(sleeper)
    assert fresh_children.stopping
    assert isinstance(process.killed_error(signal.SIGKILL, "sleeping"), Interrupted)
    with pytest.raises(Interrupted):
        process.run_command([sys.executable, "-c", "print(1)"], "after the stop")
    assert len(logged) == 1  # the refused command never started, so it is not logged

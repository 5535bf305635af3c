"""Which processes a run left or started, read from /proc (Linux): a process group's or
a session's members, a parent's direct children, and which of them are multiprocessing's pool
workers (never its resource tracker)."""
from __future__ import annotations

import time
from pathlib import Path


def _live_where(field: int, value: int) -> list[int]:
    """Live (not zombie) processes whose /proc stat field `field` (after the command
    name: 1 parent, 2 group, 3 session) is `value`, in pid order."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[field]) == value and fields[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def processes_in_group(pgid: int) -> list[int]:
    """Live (not zombie) members of process group `pgid`."""
    return _live_where(2, pgid)


def processes_in_session(sid: int) -> list[int]:
    """Live (not zombie) members of session `sid`: everything a command started with
    start_new_session=True started, even in process groups of their own (as Ray puts
    each worker process)."""
    return _live_where(3, sid)


def session_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[3]) if fields is not None else None


def left_in_group(pgid: int, grace: float = 5.0) -> list[int]:
    """The group's processes still there `grace` seconds after its leader exited.
    The grace is for processes that end by themselves once the leader is gone:
    multiprocessing's resource tracker exits only when its parent's pipe closes, so
    it can still be running a few ms after the parent has been reaped."""
    deadline = time.monotonic() + grace
    while processes_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_in_group(pgid)


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, parent pid, group, session, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _argv(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.decode(errors="replace").split("\0")[:-1]


def children(parent: int) -> list[int]:
    """Live (not zombie) direct children of `parent`."""
    return _live_where(1, parent)


# How multiprocessing's spawn start method runs a worker (multiprocessing/spawn.py,
# get_command_line): python [flags] -c "<SPAWN_MAIN>(tracker_fd=.., pipe_handle=..)"
# --multiprocessing-fork. Its resource tracker is a direct child of the same parent
# with "multiprocessing" in its command line too: -c "from
# multiprocessing.resource_tracker import main;main(N)".
SPAWN_MAIN = "from multiprocessing.spawn import spawn_main; spawn_main("
RESOURCE_TRACKER = "multiprocessing.resource_tracker"


def pool_workers(parent: int) -> list[int]:
    """The spawned multiprocessing workers of `parent`: its direct children whose
    command is exactly spawn's worker command, never the resource tracker."""
    workers = []
    for pid in children(parent):
        argv = _argv(pid)
        if not argv or argv[-1] != "--multiprocessing-fork" or "-c" not in argv[:-1]:
            continue
        code = argv[argv.index("-c") + 1]
        if code.startswith(SPAWN_MAIN) and RESOURCE_TRACKER not in code:
            workers.append(pid)
    return workers


def is_ffmpeg(pid: int) -> bool:
    argv = _argv(pid)
    return bool(argv) and Path(argv[0]).name.startswith("ffmpeg")


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

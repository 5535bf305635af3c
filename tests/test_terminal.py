"""Per-worker progress bars as a person at a terminal sees them: the real CLI runs on
a pseudo-terminal (tests/terminal.py) and its output is replayed on an emulated
screen. The screen checker itself is tested first, on hand-made garbage and on
real tqdm bars drawn by two processes the way facecut's workers draw theirs."""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field

import pytest

import montage as montage_builder
from conftest import ROOT
from terminal import Line, Screen, run_in_terminal

WIDTH = 100

# One whole tqdm bar as scan.py draws it: desc "worker N", unit "frame", the default
# format "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining},
# {rate_fmt}{postfix}]", and nothing else on the row.
BAR = re.compile(r"worker (\d+): +\d+%\|[^|]*\| *\d+/\d+ \[[^\]\[]*\]")
# Any piece of a bar: its label, its meter's left edge, or its rate.
BAR_TEXT = re.compile(r"worker \d+|\d%\||frame/s")


@dataclass
class BarReport:
    """What the bars looked like over a whole run (see `read_bars` for the rules)."""

    # worker label: how many different whole renderings of its bar were seen
    renders: dict[str, int] = field(default_factory=dict)
    garbled: list[Line] = field(default_factory=list)
    wrapped: list[Line] = field(default_factory=list)
    duplicated: list[dict[int, str]] = field(default_factory=list)
    # (label, row) pairs of each moment two or more bars were on the screen together
    together: list[tuple[tuple[str, int], ...]] = field(default_factory=list)
    left_on_screen: dict[int, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = []
        if self.garbled:
            found.append(f"garbled lines: {[line.text for line in self.garbled[:5]]}")
        if self.wrapped:
            wide = [line.text for line in self.wrapped[:3]]
            found.append(f"bars wider than the terminal: {wide}")
        if self.duplicated:
            found.append(f"a bar on two rows at once: {self.duplicated[0]}")
        if self.left_on_screen:
            found.append(f"bars left on the screen at the end: {self.left_on_screen}")
        if self.unknown:
            found.append(f"terminal sequences the checker does not understand: {self.unknown[:5]}")
        return found


def read_bars(output: str, width: int = WIDTH) -> BarReport:
    """Replay `output` on a `width`-column screen and judge the bars. A line is
    *garbled* when, as it settles (terminal.py: the moment the cursor leaves the row
    or returns to its start, so what a person sees there), it holds any bar text
    (a "worker N" label, a "%|" meter edge, a "frame/s" rate) but is not exactly one
    whole bar (BAR, anchored at both ends): two bars' text on one row, a bar drawn
    over the tail of a message or of a longer bar, a message written into a bar's
    row all fail that. Also wrong: a bar that runs past the right margin (the
    terminal wraps it onto the next row, where the next redraw, which moves up one
    row per position, no longer lands); one worker's bar on two rows of the screen
    at the same moment (a stale copy left behind by a redraw on the wrong row); bar
    text still on the screen when the run is over (the bars are transient:
    leave=False); and any control sequence the emulator does not know, since then
    it cannot tell what the screen shows."""
    report = BarReport()
    screen = Screen(width)

    def watch(now: Screen) -> None:
        rows: dict[str, list[int]] = {}
        for row, text in now.screen().items():
            for label in re.findall(r"worker (\d+):", text):
                rows.setdefault(label, []).append(row)
        if any(len(found) > 1 for found in rows.values()):
            report.duplicated.append(now.screen())
        if len(rows) > 1:
            report.together.append(tuple(sorted((label, found[0])
                                                for label, found in rows.items())))

    screen.watchers.append(watch)
    screen.feed(output)
    screen.finish()
    seen: dict[str, set[str]] = {}
    for line in screen.settled:
        whole = BAR.fullmatch(line.text)
        if whole:
            seen.setdefault(whole.group(1), set()).add(line.text)
        elif BAR_TEXT.search(line.text):
            report.garbled.append(line)
    report.renders = {label: len(texts) for label, texts in sorted(seen.items())}
    report.wrapped = [line for line in screen.wrapped if BAR_TEXT.search(line.text)]
    report.left_on_screen = {row: text for row, text in screen.screen().items()
                             if BAR_TEXT.search(text)}
    report.unknown = screen.unknown
    return report


# ------------------------------------------------------------------ the checker (fast)

def _bar(label: int, done: int, total: int = 80, rate: str = "9.5") -> str:
    return f"worker {label}:  {100 * done // total:2d}%|{'#' * (done // 8):<10}| {done}/{total} " \
           f"[00:01<00:03, {rate}frame/s]"


def test_two_bars_drawn_tqdm_style_are_clean():
    # position 0 in place, position 1 one row down and back up, both cleared at the end
    up = "\x1b[A"
    output = (f"\r{_bar(1, 0)}" + f"\n\r{_bar(2, 0)}{up}" + f"\r{_bar(1, 40)}"
              + f"\n\r{_bar(2, 24)}{up}" + "\r" + " " * 60 + "\r" + "\n\r" + " " * 60 + f"\r{up}"
              + "\r1 appearance(s), 2.00 s on screen; clips and metadata.json in Results/x\n")
    report = read_bars(output)
    assert report.problems() == []
    assert report.renders == {"1": 2, "2": 2}
    assert (("1", 0), ("2", 1)) in report.together


@pytest.mark.parametrize("output, problem", [
    # the second bar written after the first on the same row
    (f"\r{_bar(1, 8)}{_bar(2, 8)}\n", "garbled"),
    # a message printed into the first bar's row, its tail still showing
    (f"\r{_bar(1, 8)}\rwarning: x\n", "garbled"),
    # a shorter redraw without padding over a longer one: the old tail stays
    (f"\r{_bar(1, 16, rate='10.5')}\r{_bar(1, 24)}\n", "garbled"),
    # the second bar redrawn one row too low: its old copy stays above
    (f"\r{_bar(1, 8)}\n\r{_bar(2, 8)}\n\r{_bar(2, 16)}\x1b[A\x1b[A\n", "two rows"),
    # a bar too wide for the terminal
    (f"\r{_bar(1, 8)}{'=' * WIDTH}\r\n", "wider"),
    # left behind at the end
    (f"\r{_bar(1, 80)}\n", "left on the screen"),
    # a sequence the emulator cannot interpret
    (f"\x1b7\r{_bar(1, 8)}\r{' ' * 90}\r", "does not understand"),
], ids=["two-bars-one-row", "message-over-bar", "stale-tail", "stale-copy", "too-wide",
        "not-cleared", "unknown-escape"])
def test_the_checker_catches_garbled_bars(output, problem):
    problems = read_bars(output).problems()
    assert any(problem in text for text in problems), problems


# The way facecut draws: spawned processes, one tqdm bar each at positions 0 and 1,
# one multiprocessing lock shared through tqdm.set_lock, leave=False, mininterval.
_TWO_PROCESSES = """
import multiprocessing, time
from tqdm import tqdm

def work(position):
    with tqdm(total=40, position=position, desc=f"worker {position + 1}", unit="frame",
              leave=False, dynamic_ncols=True, disable=None, mininterval=0.05) as bar:
        for _ in range(40):
            time.sleep(0.01)
            bar.update(1)

def init(lock):
    tqdm.set_lock(lock)

if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    lock = context.RLock()
    tqdm.set_lock(lock)
    with context.Pool(2, initializer=init, initargs=(lock,)) as pool:
        pool.map(work, [0, 1])
    print("done")
"""


def test_real_tqdm_bars_of_two_processes_read_clean(tmp_path):
    """The emulator understands what tqdm really writes: two processes' bars drawn the
    way facecut's workers draw theirs read as clean, both seen, both on screen
    together on adjacent rows."""
    script = tmp_path / "bars.py"
    script.write_text(_TWO_PROCESSES)
    run = run_in_terminal([sys.executable, str(script)], width=WIDTH, timeout=60)
    assert run.code == 0, run.output
    report = read_bars(run.output)
    assert report.problems() == [], run.output
    assert report.renders.get("1", 0) >= 2 and report.renders.get("2", 0) >= 2, report.renders
    assert any(dict(pairs).keys() == {"1", "2"} and dict(pairs)["2"] == dict(pairs)["1"] + 1
               for pairs in report.together), report.together
    assert "done" in run.output


# ------------------------------------------------------------------ the real CLI (slow)

@pytest.mark.slow
@pytest.mark.media
def test_two_workers_draw_two_clean_bars(short_montage, reference, tmp_path):
    """The CLI with --num_processes 2 and no --quiet on a 100-column pseudo-terminal:
    both workers' bars ("worker 1", "worker 2") appear, at the same time on adjacent
    rows, and no line is garbled (read_bars says exactly what that means)."""
    run = run_in_terminal(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(short_montage.path),
         "--reference", str(reference), "--num_processes", "2", "--output", str(tmp_path / "out")],
        width=WIDTH, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"})
    assert run.code == 0, run.output
    report = read_bars(run.output)
    print(f"\n{run.seconds:.1f} s; whole bars seen per worker: {report.renders}; "
          f"{len(report.together)} moments with two bars on screen")
    assert report.problems() == [], run.output
    assert set(report.renders) == {"1", "2"}, report.renders
    assert min(report.renders.values()) >= 2, report.renders  # drawn, then redrawn
    assert any(dict(pairs).keys() == {"1", "2"} and dict(pairs)["2"] == dict(pairs)["1"] + 1
               for pairs in report.together), report.together
    assert "1 appearance(s)" in run.output


@pytest.mark.slow
@pytest.mark.media
def test_more_chunks_than_workers_still_draw_one_bar_per_worker(media_dir, reference, tmp_path):
    """A 10-minute video on 2 workers is 3 first-pass chunks (none longer than 5
    minutes): the bars stay "worker 1" and "worker 2", one row each, whichever chunk
    each scans (a bar per chunk put a third bar, "worker 3", on a third row)."""
    video = montage_builder.build(
        [montage_builder.Part((), 0, 601, 30, False),
         montage_builder.Part((montage_builder.TARGET,), 0, 3, 30, True)],
        media_dir / "ten_minutes.mp4", width=480, height=270)
    run = run_in_terminal(
        [sys.executable, str(ROOT / "video_inference.py"), "--video", str(video.path),
         "--reference", str(reference), "--speed", "--interval", "30", "--num_processes", "2",
         "--output", str(tmp_path / "out")],
        width=WIDTH, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"})
    assert run.code == 0, run.output
    report = read_bars(run.output)
    print(f"\n{run.seconds:.1f} s; whole bars seen per worker: {report.renders}")
    assert report.problems() == [], run.output
    assert set(report.renders) == {"1", "2"}, report.renders
    assert "1 appearance(s)" in run.output
    assert json.loads((tmp_path / "out" / "metadata.json").read_text())["stats"]["workers"] == 3

"""Run a command on a pseudo-terminal and replay what it wrote on a small emulated
screen, to check what progress bars look like to a person.

The screen understands what tqdm and our messages write: printable text (wrapping
at the right margin as a terminal does), carriage return, line feed, backspace,
and the CSI sequences cursor up/down (ESC[nA, ESC[nB), erase in line (ESC[nK) and
colours (ESC[...m, ignored). Anything else is recorded in `Screen.unknown`, so a
test can fail on output it cannot judge rather than guess.

A row *settles* when the cursor leaves it or returns to its first column (CR, LF,
cursor up/down, a wrap): what the row holds at that moment is what a person sees
there until the next redraw. `Screen.settled` lists every settled row in order.
"""
from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_CSI = re.compile(r"\x1b\[([0-9;?]*)([@-~])")


@dataclass(frozen=True)
class Line:
    row: int
    text: str  # without trailing blanks


@dataclass
class Screen:
    width: int
    rows: dict[int, list[str]] = field(default_factory=dict)
    row: int = 0
    col: int = 0
    settled: list[Line] = field(default_factory=list)
    wrapped: list[Line] = field(default_factory=list)  # rows whose text ran past the margin
    unknown: list[str] = field(default_factory=list)
    # called after each settle with the screen: checks of the whole screen at that moment
    watchers: list[Callable[[Screen], None]] = field(default_factory=list)

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\x1b":
                match = _CSI.match(text, i)
                if match is None:
                    self.unknown.append(repr(text[i:i + 8]))
                    i += 1
                    continue
                self._csi(match.group(1), match.group(2))
                i = match.end()
                continue
            if char == "\r":
                self._settle()
                self.col = 0
            elif char == "\n":
                self._settle()
                self.row += 1
            elif char == "\b":
                self.col = max(0, self.col - 1)
            elif char >= " " and char != "\x7f":
                self._put(char)
            # other controls (bell, shift in/out) draw nothing
            i += 1

    def text_of(self, row: int) -> str:
        return "".join(self.rows.get(row, [])).rstrip()

    def screen(self) -> dict[int, str]:
        """Every non-blank row now, top to bottom."""
        return {row: self.text_of(row) for row in sorted(self.rows) if self.text_of(row)}

    def finish(self) -> None:
        self._settle()

    def _put(self, char: str) -> None:
        if self.col >= self.width:  # past the margin: the terminal wraps
            self.wrapped.append(Line(self.row, self.text_of(self.row)))
            self._settle()
            self.row += 1
            self.col = 0
        line = self.rows.setdefault(self.row, [])
        line.extend(" " * (self.col + 1 - len(line)))
        line[self.col] = char
        self.col += 1

    def _csi(self, parameters: str, final: str) -> None:
        count = int(parameters) if parameters.isdigit() else 1
        if final == "A":
            self._settle()
            self.row = max(0, self.row - count)
        elif final == "B":
            self._settle()
            self.row += count
        elif final == "K":
            line = self.rows.setdefault(self.row, [])
            mode = int(parameters or 0)
            if mode == 0:
                del line[self.col:]
            elif mode == 1:
                line[:self.col] = " " * min(self.col, len(line))
            else:
                line.clear()
        elif final == "m":
            pass  # colour: draws nothing
        else:
            self.unknown.append(f"ESC[{parameters}{final}")

    def _settle(self) -> None:
        text = self.text_of(self.row)
        if text:
            self.settled.append(Line(self.row, text))
            for watch in self.watchers:
                watch(self)


@dataclass(frozen=True)
class TerminalRun:
    code: int
    output: str  # everything written to the terminal, decoded
    seconds: float


def run_in_terminal(command: Sequence[str], width: int = 100, height: int = 40,
                    cwd: Path | None = None, env: dict[str, str] | None = None,
                    timeout: float = 900) -> TerminalRun:
    """Run `command` with stdin, stdout and stderr on a new pseudo-terminal of
    `width` x `height` and return its exit code and everything it (and its children)
    wrote there, until the last of them closed the terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    started = time.monotonic()
    try:
        process = subprocess.Popen(list(command), stdin=slave, stdout=slave, stderr=slave,
                                   cwd=cwd, env=env, start_new_session=True)
    finally:
        os.close(slave)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces: list[str] = []
    deadline = started + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                process.kill()
                raise TimeoutError(f"{command[:3]} still writing after {timeout} s")
            ready, _, _ = select.select([master], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every process holding the terminal closed it
                break
            if not data:
                break
            pieces.append(decoder.decode(data))
        pieces.append(decoder.decode(b"", final=True))
        code = process.wait(timeout=60)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return TerminalRun(code, "".join(pieces), time.monotonic() - started)

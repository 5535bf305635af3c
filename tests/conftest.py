"""Shared fixtures: labelled media built from ../shared/media, a CLI runner, and the
one rule for tests whose prerequisites are missing (see `require`)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

# pytest.ini's `pythonpath = . tests` puts the project and this folder on sys.path, so
# `import montage` and `import facecut` work however pytest is started.
import montage as montage_builder
from measure import peak_rss_mib  # noqa: F401  (re-exported for tests)

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ prerequisites

def in_ci() -> bool:
    """True under CI=true (any value but empty, 0, false or no): there a missing
    prerequisite fails the test, so a CI run can never pass by skipping."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class Requirement:
    """Something outside the project that some tests need, and how to get it."""

    what: str
    install: str
    present: Callable[[], bool]


def _have_chromium() -> bool:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    return browser is not None and shutil.which("chromedriver") is not None


# One entry per marker in pytest.ini; a test carrying the marker gets `require`d.
REQUIREMENTS: dict[str, Requirement] = {
    "media": Requirement(
        f"the test media ({montage_builder.CLIPS})",
        f"put the shared media folder (clips/, photos/, README.md) at {montage_builder.MEDIA},"
        " beside the project folder; it is read there and never copied into the project",
        montage_builder.CLIPS.is_dir),
    "chromium": Requirement(
        "Chromium and chromedriver (the review page test drives a headless browser)",
        "apt-get install chromium chromium-driver (Debian; .ci/run does this)",
        _have_chromium),
    "ray": Requirement(
        "Ray (the --backend ray tests start a real Ray instance)",
        f"{sys.executable} -m pip install -e '.[test,ray]' in {ROOT} (what make test installs)",
        lambda: importlib.util.find_spec("ray") is not None),
}


def require(name: str) -> None:
    """Skip the running test when requirement `name` is missing, or under CI fail it,
    with one message saying what is missing and how to install it."""
    requirement = REQUIREMENTS[name]
    if requirement.present():
        return
    message = f"missing {requirement.what}: {requirement.install}"
    if in_ci():
        pytest.fail(f"{message} (CI is set: a missing prerequisite fails, it is never "
                    "skipped)", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # tryfirst: before any fixture of the test is set up (the media fixtures would
    # otherwise fail first, inside ffmpeg, with a message that names nothing)
    for name in REQUIREMENTS:
        if item.get_closest_marker(name) is not None:
            require(name)


# ------------------------------------------------------------------ running the CLI

@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    output: Path

    @property
    def metadata(self) -> dict:
        return json.loads((self.output / "metadata.json").read_text())

    def clips(self) -> list[Path]:
        return sorted(self.output.glob("clip_*.mp4"), key=lambda p: int(p.stem.split("_")[1]))


def run_cli(*args: str, output: Path | None = None, timeout: float = 900,
            cwd: Path | None = None) -> CliResult:
    command = [sys.executable, str(ROOT / "video_inference.py"), *args, "--quiet"]
    if output is not None:
        command += ["--output", str(output)]
    process = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                             cwd=cwd or ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    # without --output a single video's results go to Results/<stem> under the cwd
    return CliResult(process.returncode, process.stdout, process.stderr,
                     output if output is not None else (cwd or ROOT) / "Results")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def montage(media_dir: Path) -> montage_builder.Montage:
    return montage_builder.build(montage_builder.standard_parts(), media_dir / "montage.mp4")


@pytest.fixture(scope="session")
def reference(media_dir: Path) -> Path:
    return montage_builder.reference_photo(media_dir / "reference.png")


@pytest.fixture(scope="session")
def short_montage(media_dir: Path) -> montage_builder.Montage:
    """5 s: someone else, the target for 2 s, someone else."""
    parts = [
        montage_builder.Part(("d18.mp4",), 0, 1, 30, False),
        montage_builder.Part((montage_builder.TARGET,), 10, 2, 30, True),
        montage_builder.Part(("d18.mp4",), 1, 2, 30, False),
    ]
    return montage_builder.build(parts, media_dir / "short.mp4")

"""Shared fixtures: labelled media built from ../shared/media, and a CLI runner."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import montage as montage_builder  # noqa: E402
from measure import peak_rss_mib  # noqa: E402,F401  (re-exported for tests)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not montage_builder.CLIPS.is_dir():
        skip = pytest.mark.skip(reason=f"test media not found at {montage_builder.MEDIA}")
        for item in items:
            if "media" in item.keywords:
                item.add_marker(skip)


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
    return CliResult(process.returncode, process.stdout, process.stderr,
                     output or Path("Results"))


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

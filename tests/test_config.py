"""The one Config: built once from the command line; the scan cache's key and
metadata's settings derive from it (pure: no media, no models)."""
from __future__ import annotations

from dataclasses import fields, replace
from fractions import Fraction

import pytest

from facecut.cache import FORMAT, CacheKey
from facecut.cli import build_config, build_parser
from facecut.config import Config, ReferenceSet
from facecut.metadata import settings_record

BASE = ["--video", "v.mp4", "--reference", "r.jpg"]


def config_of(*extra: str) -> Config:
    return build_config(build_parser().parse_args([*BASE, *extra]), [ReferenceSet("r", ("r.jpg",))])


def key_of(config: Config) -> str:
    return CacheKey("video-digest", (("photo-digest",),), config.scan).name()


def test_defaults():
    config = config_of()
    assert (config.preset.name, config.scan.detector, config.scan.interval) == ("accurate", "blazeface", 2)
    assert (config.scan.min_face, config.scan.full_detect_every) == (32, 30)
    assert (config.scan.metric, config.scan.model_threshold) == ("euclidean", 0.5)
    assert config.segments.threshold == 0.5  # the model's, when --threshold is not given
    assert config.cut.mode == "exact" and config.cut.padding == 0
    assert config.output.cache and config.output.progress and not config.output.overwrite


# Options a rerun may change and still re-segment and re-cut from the cached scan.
@pytest.mark.parametrize("extra", [
    ["--threshold", "0.4"], ["--min-gap", "2"], ["--min-duration", "1"], ["--padding", "0.5"],
    ["--copy"], ["--clips", "reencode"], ["--clips", "keyframe"], ["--dry-run"], ["--overwrite"], ["--quiet"], ["--calibrate"],
    ["--num_processes", "1"], ["--json"], ["--output", "elsewhere"],
])
def test_options_that_keep_the_scan_cache(extra):
    # the option does change the configuration (so this test is not vacuous), except
    # --json and --output, which are the CLI's presentation and each video's folder
    assert (config_of(*extra) != config_of()) is (extra[0] not in ("--json", "--output"))
    assert config_of(*extra).scan == config_of().scan
    assert key_of(config_of(*extra)) == key_of(config_of())


# Options that change what a scan records: each gives another cache entry.
@pytest.mark.parametrize("extra", [
    ["--interval", "5"], ["--speed"], ["--detector", "dlib"], ["--min-face", "24"],
])
def test_options_that_invalidate_the_scan_cache(extra):
    assert key_of(config_of(*extra)) != key_of(config_of())


@pytest.mark.parametrize("field", [f.name for f in fields(config_of().scan)])
def test_every_scan_setting_is_part_of_the_cache_key(field):
    """The key is the whole ScanSettings: no field can change a scan unnoticed."""
    scan = config_of().scan
    value = getattr(scan, field)
    changed = value + "x" if isinstance(value, str) else value + 1
    assert key_of(replace(config_of(), scan=replace(scan, **{field: changed}))) != key_of(config_of())


def test_cache_key_changes_with_the_inputs_and_the_format():
    scan = config_of().scan
    base = CacheKey("a", (("b",),), scan)
    assert CacheKey("other", (("b",),), scan).name() != base.name()
    assert CacheKey("a", (("other",),), scan).name() != base.name()
    assert CacheKey("a", (("b",),), scan, format=FORMAT + 1).name() != base.name()


@pytest.mark.parametrize("extra, expected", [
    # BlazeFace sees tiles at its own 192 px input, whatever the preset says
    ([], {"preset": "accurate", "detector": "blazeface", "interval": 2, "detect_size": 192,
          "min_face": 32, "full_detect_every": 30, "cut": "exact", "threshold": 0.5}),
    (["--speed"], {"preset": "speed", "detector": "blazeface", "interval": 10,
                   "detect_size": 192, "min_face": 48, "full_detect_every": 30}),
    (["--min-face", "20"], {"min_face": 20}),
    (["--detector", "dlib"], {"detector": "dlib", "detect_size": 640, "min_face": None}),
    (["--speed", "--detector", "dlib"], {"detector": "dlib", "detect_size": 384}),
    (["--copy", "--padding", "0.25", "--threshold", "0.45"],
     {"cut": "keyframe", "padding": 0.25, "threshold": 0.45}),
    (["--clips", "reencode"], {"cut": "reencode"}),
    (["--clips", "keyframe"], {"cut": "keyframe"}),
    (["--dry-run", "--copy"], {"cut": "none"}),
    (["--min-gap", "1/3", "--min-duration", "2"], {"min_gap": float(Fraction(1, 3)),
                                                    "min_duration": 2.0}),
])
def test_metadata_settings_derive_from_the_config(extra, expected):
    record = settings_record(config_of(*extra))
    assert set(record) == {"model", "detector", "metric", "threshold", "interval", "min_gap",
                           "min_duration", "padding", "cut", "preset", "detect_size",
                           "min_face", "full_detect_every", "discovery"}
    assert {name: record[name] for name in expected} == expected


def test_num_processes_is_capped_at_the_cpu_count():
    import os

    cpus = len(os.sched_getaffinity(0))
    assert config_of("--num_processes", "64").processes == cpus
    assert config_of("--num_processes", "1").processes == 1


def test_copy_contradicting_clips_is_a_usage_error():
    from facecut.errors import UsageError

    with pytest.raises(UsageError, match="--copy means --clips keyframe"):
        config_of("--copy", "--clips", "reencode")
    assert config_of("--copy", "--clips", "keyframe").cut.mode == "keyframe"


def test_min_face_with_another_detector_is_a_usage_error():
    from facecut.errors import UsageError

    with pytest.raises(UsageError, match="--min-face sets BlazeFace's smallest face"):
        config_of("--detector", "dlib", "--min-face", "40")

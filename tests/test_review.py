"""The review page: pure HTML from metadata, and a real headless Chromium loading it."""
from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import run_cli
from facecut.review import review_page, timeline_points
from facecut.segments import Box, Face, FrameFaces
from facecut.timecode import FrameClock


def _document(cut: str = "accurate") -> dict:
    segment = {"index": 1, "clip": "clip_1.mp4" if cut != "none" else None, "start_frame": 30,
               "end_frame": 89, "start_time": 1.0, "end_time": 3.0, "duration": 2.0,
               "best_distance": 0.3, "frames_matched_by_track": 4,
               "detections": [{"frame": 30, "distance": 0.3, "box": {"x": 1, "y": 2, "w": 3, "h": 4}},
                              {"frame": 31, "distance": None, "box": {"x": 1, "y": 2, "w": 3, "h": 4}},
                              {"frame": 35, "distance": 0.5, "box": {"x": 1, "y": 2, "w": 3, "h": 4}}]}
    return {"video": {"path": "/v/<talk> & co.mp4", "duration": 5.0},
            "settings": {"threshold": 0.5, "metric": "euclidean", "model": "Dlib", "cut": cut},
            "summary": {"segments": 1, "seconds_on_screen": 2.0}, "segments": [segment]}


def test_page_refers_only_to_files_beside_it():
    page = review_page(_document(), {1: "thumb_1.jpg"}, "timeline.png")
    assert '<img src="thumb_1.jpg"' in page and '<video controls preload="metadata" src="clip_1.mp4"' in page
    assert '<img src="timeline.png"' in page
    assert "&lt;talk&gt; &amp; co.mp4" in page  # names are escaped
    assert "http" not in page and "//" not in page.replace("<!DOCTYPE", "")
    assert "best distance 0.300, mean 0.400" in page


def test_dry_run_page_has_no_player():
    page = review_page(_document("none"), {}, None)
    assert "<video" not in page and "(no clip: dry run)" in page and "(no picture)" in page


def test_timeline_points_are_each_frames_best_embedded_distance():
    clock = FrameClock.constant(10, Fraction(5))
    frames = [FrameFaces(2, (Face(Box(0, 0, 1, 1), 1.0, 0.7), Face(Box(5, 5, 1, 1), 1.0, 0.4))),
              FrameFaces(1, (Face(Box(0, 0, 1, 1), 1.0, None),)), FrameFaces(3, ())]
    assert timeline_points(frames, clock) == ([0.4], [0.4])


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.mark.slow
@pytest.mark.media
@pytest.mark.chromium  # skipped without it, failed under CI (conftest.require)
def test_review_page_loads_in_headless_chromium(short_montage, reference, tmp_path):
    """Run the tool, open index.html from disk in a real headless Chromium with the
    network off, check every image decoded and every clip's video loaded its
    metadata, and keep a screenshot."""
    found = _chromium()
    assert found is not None  # the chromium marker made sure of it
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    out = tmp_path / "out"
    result = run_cli("--video", str(short_montage.path), "--reference", str(reference),
                     output=out)
    assert result.code == 0, result.stderr
    assert {"index.html", "timeline.png", "thumb_1.jpg", "clip_1.mp4"} <= \
        {p.name for p in out.iterdir()}
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,1600", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        browser.get((out / "index.html").as_uri())
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete,"
            " i.naturalWidth])")
        assert sorted(src for src, _, _ in images) == ["thumb_1.jpg", "timeline.png"]
        assert all(done and width > 0 for _, done, width in images), images
        # wait (up to 20 s) until every video has loaded its metadata or failed
        states = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const videos = Array.from(document.querySelectorAll('video'));
            const check = () => videos.map(v => [v.getAttribute('src'), v.readyState,
                                                 v.error ? v.error.code : null, v.duration]);
            const started = Date.now();
            (function poll() {
              const now = check();
              if (now.every(s => s[1] >= 1 || s[2] !== null) || Date.now() - started > 20000)
                done(now); else setTimeout(poll, 100);
            })();""")
        assert [s[0] for s in states] == ["clip_1.mp4"]
        assert all(state >= 1 and error is None and duration > 1.5
                   for _, state, error, duration in states), states
        shot = tmp_path / "review.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        print(f"\nreview page: images {images}, videos {states}, screenshot {shot}")
    finally:
        browser.quit()

"""The review page: pure HTML from metadata, and a real headless Chromium loading it."""
from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from checks import gray_frames
from conftest import run_cli
from facecut.review import review_page, timeline_points
from facecut.segments import Box, Face, FrameFaces
from facecut.timecode import FrameClock


def _document(cut: str = "exact") -> dict:
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


def _frame_at_zero(browser: Any) -> np.ndarray:
    """The first clip's picture at currentTime 0, as the page's player shows it, grey."""
    import base64
    import io

    from PIL import Image

    url = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const video = document.querySelector('video');
        video.onseeked = () => {
          const canvas = document.createElement('canvas');
          canvas.width = video.videoWidth; canvas.height = video.videoHeight;
          canvas.getContext('2d').drawImage(video, 0, 0);
          done(canvas.toDataURL('image/png'));
        };
        video.currentTime = 0;""")
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L")
    return np.asarray(picture, dtype=np.float64)


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
    # file access from files: the page's clip is drawn to a canvas to read its pixels
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--allow-file-access-from-files",
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
        assert all(state >= 1 and error is None for _, state, error, _ in states), states
        # The player plays exactly what was cut: its duration is the segment's (the
        # clip's edit list ends it there, to the millisecond) and at 0 it shows the
        # segment's first frame.
        segment = result.metadata["segments"][0]
        assert segment["clip_cut"] == "copy-exact"
        wanted = segment["clip_end_time"] - segment["clip_start_time"]
        assert abs(states[0][3] - wanted) <= 0.001, (states[0][3], wanted)
        shown = _frame_at_zero(browser)
        first = segment["clip_start_frame"]
        around = gray_frames(short_montage.path,
                             float(short_montage.frame_starts[first - 1]) - 0.001, 3,
                             short_montage.width, short_montage.height)
        errors = [float(np.mean((shown - candidate) ** 2)) for candidate in around]
        assert int(np.argmin(errors)) == 1, f"frame {first} - 1, {first}, + 1: errors {errors}"
        shot = tmp_path / "review.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        print(f"\nreview page: images {images}, videos {states}, screenshot {shot}")
    finally:
        browser.quit()

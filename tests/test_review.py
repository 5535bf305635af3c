"""The review page: pure HTML from metadata, and a real headless Chromium loading it."""
from __future__ import annotations

import re
import shutil
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from checks import gray_frames
from conftest import run_cli
from facecut import review
from facecut.review import Lane, review_page, thumbnail_name, timeline_lanes
from facecut.segments import Box, Face, FrameFaces
from facecut.timecode import FrameClock

BOX = {"x": 1, "y": 2, "w": 3, "h": 4}


def _segment(person, index, clip, start, end, detections):
    """An appearance; its best distance is its detections' smallest."""
    distances = [d["distance"] for d in detections if d["distance"] is not None]
    return {"person": person, "index": index, "clip": clip, "start_frame": round(start * 30),
            "end_frame": round(end * 30) - 1, "start_time": start, "end_time": end,
            "duration": end - start, "best_distance": min(distances, default=None),
            "frames_matched_by_track": 4, "detections": detections}


def _person(name, segments, seconds):
    return {"name": name, "references": [f"/photos/{name}.jpg"], "folder": name,
            "segments": segments, "seconds_on_screen": seconds}


def _document(cut: str = "exact") -> dict:
    detections = [{"frame": 30, "distance": 0.3, "box": BOX},
                  {"frame": 31, "distance": None, "box": BOX},
                  {"frame": 35, "distance": 0.5, "box": BOX}]
    segment = _segment("host", 1, "clip_1.mp4" if cut != "none" else None, 1.0, 3.0, detections)
    return {"video": {"path": "/v/<talk> & co.mp4", "duration": 5.0},
            "settings": {"threshold": 0.5, "metric": "euclidean", "model": "Dlib", "cut": cut},
            "people": [{**_person("host", 1, 2.0), "folder": ""}],
            "summary": {"segments": 1, "seconds_on_screen": 2.0}, "segments": [segment]}


def _two_people(name: str = "guest") -> dict:
    """The host twice and `name` once (on screen with the host), and a third person
    searched and never found."""
    def seen(frame, distance):
        return [{"frame": frame, "distance": distance, "box": BOX}]

    segments = [_segment("host", 1, "host/clip_1.mp4", 1.0, 3.0, seen(30, 0.3)),
                _segment("host", 2, "host/clip_2.mp4", 6.0, 8.0, seen(180, 0.4)),
                _segment(name, 1, f"{name}/clip_1.mp4", 6.5, 8.0, seen(195, 0.2))]
    return {"video": {"path": "/v/talk.mp4", "duration": 10.0},
            "settings": {"threshold": 0.5, "metric": "euclidean", "model": "Dlib",
                         "cut": "exact"},
            "people": [_person("host", 2, 4.0), _person(name, 1, 1.5), _person("nobody", 0, 0.0)],
            "summary": {"segments": 3, "seconds_on_screen": 5.5}, "segments": segments}


def _sections(page: str) -> list[dict]:
    """Each person's section of the page: what it names, shows and plays."""
    found = []
    for part in page.split('<section class="person" ')[1:]:
        found.append({
            "heading": re.search(r"<h2>(.*?)</h2>", part).group(1),
            "totals": re.search(r"</h2>\n<p>(.*?)</p>", part).group(1),
            "appearances": re.findall(r'<section class="segment" id="([^"]*)">', part),
            "pictures": re.findall(r'<img src="([^"]*)" alt="([^"]*)"', part),
            "players": re.findall(r'<video [^>]*src="([^"]*)"', part),
            "not found": "was not found" in part,
        })
    return found


def test_page_refers_only_to_files_beside_it():
    page = review_page(_document(), {("host", 1): "thumb_1.jpg"}, "timeline.png")
    assert '<img src="thumb_1.jpg"' in page and '<video controls preload="metadata" src="clip_1.mp4"' in page
    assert '<img src="timeline.png"' in page
    assert "&lt;talk&gt; &amp; co.mp4" in page  # names are escaped
    assert "http" not in page and "//" not in page.replace("<!DOCTYPE", "")
    assert "best distance 0.300, mean 0.400" in page


def test_one_persons_page_is_one_section_numbered_as_before():
    [host] = _sections(review_page(_document(), {("host", 1): "thumb_1.jpg"}, None))
    assert host == {"heading": "host", "totals": "1 appearance(s), 2.00 s on screen",
                    "appearances": ["segment-1"], "pictures": [("thumb_1.jpg", "appearance 1")],
                    "players": ["clip_1.mp4"], "not found": False}


def test_dry_run_page_has_no_player():
    page = review_page(_document("none"), {}, None)
    assert "<video" not in page and "(no clip: dry run)" in page and "(no picture)" in page


def test_page_has_a_section_per_person_with_their_own_appearances():
    thumbnails = {("host", 1): "thumb_host_1.jpg", ("host", 2): "thumb_host_2.jpg",
                  ("guest", 1): "thumb_guest_1.jpg"}
    page = review_page(_two_people(), thumbnails, "timeline.png")
    assert "3 appearance(s), 5.50 s on screen" in page  # everyone's totals first
    assert _sections(page) == [
        {"heading": "host", "totals": "2 appearance(s), 4.00 s on screen",
         "appearances": ["segment-host-1", "segment-host-2"],
         "pictures": [("thumb_host_1.jpg", "host appearance 1"),
                      ("thumb_host_2.jpg", "host appearance 2")],
         "players": ["host/clip_1.mp4", "host/clip_2.mp4"], "not found": False},
        {"heading": "guest", "totals": "1 appearance(s), 1.50 s on screen",
         "appearances": ["segment-guest-1"],
         "pictures": [("thumb_guest_1.jpg", "guest appearance 1")],
         "players": ["guest/clip_1.mp4"], "not found": False},
        {"heading": "nobody", "totals": "0 appearance(s), 0.00 s on screen",
         "appearances": [], "pictures": [], "players": [], "not found": True},
    ]


def test_every_person_name_is_escaped():
    name = 'a"<b>&'
    page = review_page(_two_people(name), {(name, 1): "thumb_x.jpg"}, None)
    assert name not in page and "<b>" not in page
    escaped = "a&quot;&lt;b&gt;&amp;"
    assert [s["heading"] for s in _sections(page)] == ["host", escaped, "nobody"]
    assert f'id="person-{escaped}"' in page and f'id="segment-{escaped}-1"' in page
    assert f'alt="{escaped} appearance 1"' in page and f'src="{escaped}/clip_1.mp4"' in page


@pytest.mark.parametrize("index, person, expected", [
    (3, None, "thumb_3.jpg"),  # one person searched: the names of every earlier run
    (3, "host", "thumb_host_3.jpg"),
    (12, "guest-2.b_c", "thumb_guest-2.b_c_12.jpg"),
])
def test_thumbnail_name(index, person, expected):
    assert thumbnail_name(index, person) == expected


CLOCK = FrameClock.constant(10, Fraction(5))  # frame n starts at n / 5 s
FACES = [  # out of order, as chunks finish: the lanes sort them
    FrameFaces(2, (Face(Box(0, 0, 1, 1), 1.0, (0.7, 0.3)),
                   Face(Box(5, 5, 1, 1), 1.0, (0.4, 0.9)))),
    FrameFaces(1, (Face(Box(0, 0, 1, 1), 1.0, None),)),  # not embedded: no point
    FrameFaces(3, ()),
    FrameFaces(0, (Face(Box(0, 0, 1, 1), 1.0, (0.2, 0.8)),)),
]


@pytest.mark.parametrize("frames, people, expected", [
    # each lane: each frame's smallest distance to that person, over its embedded faces
    ([FrameFaces(2, (Face(Box(0, 0, 1, 1), 1.0, (0.7,)), Face(Box(5, 5, 1, 1), 1.0, (0.4,)))),
      FrameFaces(1, (Face(Box(0, 0, 1, 1), 1.0, None),)), FrameFaces(3, ())],
     ["host"],
     [Lane("host", [0.4], [0.4], [(0.0, 0.6)])]),
    (FACES, ["host", "guest"],
     [Lane("host", [0.0, 0.4], [0.2, 0.4], [(0.0, 0.6)]),
      Lane("guest", [0.0, 0.4], [0.8, 0.3], [(0.4, 0.6)])]),
    (FACES[1:3], ["host", "guest"],  # no face embedded: empty lanes, each still drawn
     [Lane("host", [], [], [(0.0, 0.6)]), Lane("guest", [], [], [(0.4, 0.6)])]),
])
def test_timeline_has_a_lane_per_person(frames, people, expected):
    segments = [{"person": "host", "start_time": 0.0, "end_time": 0.6},
                {"person": "guest", "start_time": 0.4, "end_time": 0.6}]
    document = {"people": [{"name": name} for name in people],
                "segments": [s for s in segments if s["person"] in people]}
    assert timeline_lanes(frames, CLOCK, document) == expected


@pytest.mark.parametrize("document, thumbnails, height", [
    (_document(), {("host", 1): "thumb_1.jpg"}, 300),
    (_two_people(), {("host", 1): "thumb_host_1.jpg", ("host", 2): "thumb_host_2.jpg",
                     ("guest", 1): "thumb_guest_1.jpg"}, 700),  # 3 lanes, 2 inches more each
])
def test_pictures_are_named_and_keyed_by_person(monkeypatch, tmp_path, document, thumbnails,
                                                height):
    """draw_pictures with a stand-in for the decoder: a thumbnail per appearance, keyed
    (person, index), and the timeline drawn at a lane's height per person."""
    from PIL import Image

    def frames(video, start, stop):
        yield start, np.full((90, 160, 3), 128, np.uint8)

    monkeypatch.setattr(review, "read_frames", frames)
    video = SimpleNamespace(path=Path("/v/talk.mp4"), clock=FrameClock.constant(300, Fraction(30)))
    faces = [FrameFaces(n, (Face(Box(0, 0, 9, 9), 1.0, (0.3,) * len(document["people"])),))
             for n in range(0, 300, 10)]
    timeline, drawn = review.draw_pictures(video, faces, document, 0.5, tmp_path)
    assert (timeline, drawn) == ("timeline.png", thumbnails)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*thumbnails.values(),
                                                                 "timeline.png"])
    assert Image.open(tmp_path / "timeline.png").size == (1000, height)


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


def test_people_found_with_no_photo_are_listed_by_screen_time_with_their_faces():
    document = _two_people("person_2")
    document["settings"]["discovery"] = {"link_distance": 0.475}
    for person in document["people"]:
        person["face"] = f"people/{person['name']}.jpg"
    document["people"][0]["seconds_on_screen"] = 1.0  # host now less than person_2 (1.5)
    page = review_page(document, {}, None)
    sections = page.split('<section class="person" ')[1:]
    headings = [re.search(r"<h2>(.*?)</h2>", part).group(1) for part in sections]
    assert headings == ["person_2", "host", "nobody"]
    faces = [re.search(r'</h2>\n<img src="([^"]*)" alt="([^"]*)" class="face"', part).groups()
             for part in sections]
    assert faces == [("people/person_2.jpg", "person_2"), ("people/host.jpg", "host"),
                     ("people/nobody.jpg", "nobody")]
    # with photos: the order given, and no face pictures
    named = review_page(_two_people("person_2"), {}, None)
    assert [m for m in re.findall(r"<h2>(.*?)</h2>", named)] == ["host", "person_2", "nobody"]
    assert 'class="face"' not in named

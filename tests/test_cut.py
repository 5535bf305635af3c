"""The exact ffmpeg command of each kind of clip (no ffmpeg runs here).

The lists were checked against the commands before the graph rewrite (which spliced
`-vf crop=...` in and rewrote `0:a` to `0:a?`) by running both on a 511x287 copy of
clips/d9.mp4: same streams, sizes and frame counts, and the same md5 for every
decoded frame."""
from __future__ import annotations

from fractions import Fraction

import pytest

from facecut.cut import COPY_EXACT, COPY_KEYFRAME, REENCODE, ClipJob, clip_command

SOURCE, CLIP = "file:/v/in.mp4", "file:/out/clip_1.mp4"
GLOBAL = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
COPY = ["-f", "mp4", "-avoid_negative_ts", "make_zero"]
# the edit list kept (no timestamp shifting) and written on every track, moov first
EXACT = ["-f", "mp4", "-c", "copy", "-fps_mode", "passthrough", "-map_metadata", "0",
         "-movflags", "+faststart", "-t", "3.000000", "-use_editlist", "1"]
ENCODE = ["-crf", "18", "-fps_mode", "passthrough", "-map_metadata", "0",
          "-movflags", "+faststart", "-pix_fmt", "yuv420p"]
AAC = ["-acodec", "aac", "-b:a", "192k"]
CROP = ["-filter_complex", "[0:v:0]crop=trunc(iw/2)*2:trunc(ih/2)*2[s0]", "-map", "[s0]"]
AUDIO = ["-map", "0:a?"]  # every audio stream, and no error where there is none

CASES = {
    "copy, exact": (
        {"method": COPY_EXACT, "has_audio": True},
        ["-ss", "2.000000", "-i", SOURCE, "-map", "0:v:0", *AUDIO, *EXACT]),
    "copy, exact, audio re-encoded, odd size copied as it is": (
        {"method": COPY_EXACT, "has_audio": True, "copy_audio": False, "even_size": False},
        ["-ss", "2.000000", "-i", SOURCE, "-map", "0:v:0", *AUDIO, "-f", "mp4", "-b:a", "192k",
         "-c", "copy", "-c:a", "aac", "-fps_mode", "passthrough", "-map_metadata", "0",
         "-movflags", "+faststart", "-t", "3.000000", "-use_editlist", "1"]),
    "copy from the keyframe": (
        {"method": COPY_KEYFRAME, "has_audio": True},
        ["-ss", "2.000000", "-i", SOURCE, "-map", "0:v:0", *AUDIO, *COPY,
         "-c", "copy", "-fps_mode", "passthrough", "-map_metadata", "0", "-t", "3.000000"]),
    "copy from the keyframe, audio re-encoded": (
        {"method": COPY_KEYFRAME, "has_audio": True, "copy_audio": False},
        ["-ss", "2.000000", "-i", SOURCE, "-map", "0:v:0", *AUDIO, *COPY, "-b:a", "192k",
         "-c", "copy", "-c:a", "aac", "-fps_mode", "passthrough", "-map_metadata", "0",
         "-t", "3.000000"]),
    "copy from the keyframe, no audio": (
        {"method": COPY_KEYFRAME, "has_audio": False},
        ["-ss", "2.000000", "-i", SOURCE, "-map", "0:v:0", *COPY,
         "-c", "copy", "-fps_mode", "passthrough", "-map_metadata", "0", "-t", "3.000000"]),
    "copy from the keyframe, odd size: copied as it is": (
        {"method": COPY_KEYFRAME, "has_audio": True, "even_size": False, "threads": 2},
        ["-ss", "2.000000", "-i", SOURCE, "-map", "0:v:0", *AUDIO, *COPY,
         "-c", "copy", "-fps_mode", "passthrough", "-map_metadata", "0", "-t", "3.000000"]),
    "reencode": (
        {"method": REENCODE, "has_audio": True},
        ["-ss", "2.000000", "-i", SOURCE, "-map", "0:v:0", *AUDIO, "-f", "mp4", *AAC, *ENCODE,
         "-preset", "veryfast", "-t", "3.000000", "-vcodec", "libx264"]),
    "reencode, decoding from a keyframe before the start": (
        {"method": REENCODE, "has_audio": True, "start": Fraction(61, 30), "decode_from": Fraction(1)},
        ["-ss", "1.000000", "-i", SOURCE, "-map", "0:v:0", *AUDIO, "-f", "mp4", *AAC, *ENCODE,
         "-preset", "veryfast", "-ss", "1.033333", "-t", "3.000000", "-vcodec", "libx264"]),
    "reencode, from the first frame": (
        {"method": REENCODE, "has_audio": True, "start": Fraction(0), "decode_from": Fraction(0)},
        ["-i", SOURCE, "-map", "0:v:0", *AUDIO, "-f", "mp4", *AAC, *ENCODE,
         "-preset", "veryfast", "-t", "3.000000", "-vcodec", "libx264"]),
    "reencode, odd size": (
        {"method": REENCODE, "has_audio": True, "even_size": False},
        ["-ss", "2.000000", "-i", SOURCE, *CROP, *AUDIO, "-f", "mp4", *AAC, *ENCODE,
         "-preset", "veryfast", "-t", "3.000000", "-vcodec", "libx264"]),
    "reencode, odd size, no audio, one thread, --speed": (
        {"method": REENCODE, "has_audio": False, "even_size": False, "threads": 1,
         "encoding": "ultrafast"},
        ["-ss", "2.000000", "-i", SOURCE, *CROP, "-f", "mp4", *ENCODE,
         "-preset", "ultrafast", "-t", "3.000000", "-threads", "1", "-vcodec", "libx264"]),
}


@pytest.mark.parametrize("fields, middle", CASES.values(), ids=CASES.keys())
def test_clip_command(fields, middle):
    fields = dict(fields)  # the case table is shared: never change it
    method = fields.pop("method")
    job = ClipJob(**{"source": "/v/in.mp4", "destination": "/out/clip_1.mp4",
                     "start": Fraction(2), "duration": Fraction(3), **fields})
    assert clip_command(job, "/usr/bin/ffmpeg", method) == ["/usr/bin/ffmpeg", *middle, CLIP, *GLOBAL]

import pickle
from fractions import Fraction

import pytest

from facecut.decode import frame_selection
from facecut.timecode import (EvenStarts, FrameClock, floor_microseconds, parse_rational,
                              rational_text, seconds_arg)


@pytest.mark.parametrize("text, expected", [
    ("30000/1001", Fraction(30000, 1001)),
    ("25/1", Fraction(25)),
    ("24000/1001", Fraction(24000, 1001)),
    ("29.97", Fraction(2997, 100)),
    ("0/0", None),
    ("", None),
    ("abc", None),
    ("-5/1", None),
])
def test_parse_rational(text, expected):
    assert parse_rational(text) == expected


def test_rational_text_round_trips():
    assert rational_text(Fraction(30000, 1001)) == "30000/1001"
    assert rational_text(Fraction(25)) == "25/1"


@pytest.mark.parametrize("seconds, expected", [
    (Fraction(0), "0.000000"),
    (Fraction(1001, 30000), "0.033366"),  # 0.0333666.. rounds down
    (Fraction(17982 * 1001, 30000), "599.999400"),  # 17982 frames at 29.97
    (Fraction(-1, 2), "-0.500000"),
])
def test_seconds_arg_rounds_down_to_microseconds(seconds, expected):
    assert seconds_arg(seconds) == expected
    assert floor_microseconds(seconds) <= seconds


def test_ntsc_clock_has_no_drift():
    fps = Fraction(30000, 1001)
    clock = FrameClock.constant(5 * 60 * 30, fps)  # five minutes at 29.97
    last = clock.frame_count - 1
    assert clock.start_of(last) == Fraction(last * 1001, 30000)
    assert clock.end == Fraction(clock.frame_count * 1001, 30000)
    # a float 29.97 or int(fps) would be off by frames after five minutes
    assert clock.frame_at(Fraction(300)) == 8991  # 300 s * 29.97 = 8991.0
    assert abs(float(clock.start_of(8991)) - 299.9997) < 1e-4


@pytest.mark.parametrize("seconds, frame", [
    (Fraction(0), 0),
    (Fraction(-1), 0),                 # clamped
    (Fraction(1, 30), 1),              # exactly on a frame start
    (Fraction(1, 30) - Fraction(1, 10**9), 0),
    (Fraction(10), 29),               # past the end: last frame
])
def test_frame_at(seconds, frame):
    clock = FrameClock.constant(30, Fraction(30))
    assert clock.frame_at(seconds) == frame


def test_variable_frame_rate_clock():
    # 3 frames at 30 fps then 2 frames at 25 fps, as a concat of two parts
    starts = [Fraction(0), Fraction(1, 30), Fraction(2, 30), Fraction(3, 30), Fraction(3, 30) + Fraction(1, 25)]
    clock = FrameClock.from_timestamps(starts, Fraction(1, 25), None)
    assert clock.end_of(2) == Fraction(1, 10)
    assert clock.end_of(4) == Fraction(3, 30) + Fraction(2, 25)
    assert clock.frame_at(Fraction(11, 100)) == 3


def test_last_frame_duration_fallbacks():
    starts = [Fraction(0), Fraction(1, 25)]
    assert FrameClock.from_timestamps(starts, None, Fraction(25)).end == Fraction(2, 25)
    assert FrameClock.from_timestamps(starts, None, None).end == Fraction(2, 25)
    assert FrameClock.from_timestamps(starts[::-1], None, None).starts == tuple(starts)


def test_clock_rejects_end_before_last_start():
    with pytest.raises(ValueError):
        FrameClock((Fraction(0), Fraction(1)), Fraction(1))


@pytest.mark.parametrize("seconds, frame", [
    (Fraction(0), 0), (Fraction(-1), 0), (Fraction(1, 30), 1),
    (Fraction(1, 30) - Fraction(1, 1000), 1),   # decoder rounding below a frame start
    (Fraction(1, 30) + Fraction(1, 1000), 1),
    (Fraction(1, 60), 1),                       # exactly halfway: the later frame
    (Fraction(1, 60) - Fraction(1, 10**6), 0),
    (Fraction(100), 29),
])
def test_nearest_frame(seconds, frame):
    assert FrameClock.constant(30, Fraction(30)).nearest_frame(seconds) == frame


def _clock(starts: list[Fraction]) -> FrameClock:
    return FrameClock.from_timestamps(starts, None, None)


@pytest.mark.parametrize("starts, grid", [
    # exact 30 fps
    ([Fraction(i, 30) for i in range(90)], (Fraction(0), Fraction(1, 30))),
    # 29.97 starting late (an MPEG-TS offset)
    ([Fraction(7, 5) + Fraction(1001 * i, 30000) for i in range(300)],
     (Fraction(7, 5), Fraction(1001, 30000))),
    # 30 fps in a 1 ms time base: 0, 33, 67, 100 ... (within a quarter frame)
    ([Fraction(round(i * 1000 / 30), 1000) for i in range(91)], (Fraction(0), Fraction(1, 30))),
    # 30 fps then 25 fps: variable, no grid
    ([Fraction(i, 30) for i in range(60)] + [Fraction(2) + Fraction(i, 25) for i in range(50)], None),
    # one frame missing in the middle: a gap of two periods is not a grid
    ([Fraction(i, 30) for i in range(60) if i != 30], None),
    ([Fraction(0)], None),
])
def test_regular_grid(starts, grid):
    assert _clock(starts).regular_grid() == grid


def test_regular_grid_names_every_frame_by_rounding():
    """What the decoder's frame filter relies on: round((t - first) / step) == index."""
    starts = [Fraction(round(i * 1000 / 30), 1000) for i in range(3000)]
    first, step = _clock(starts).regular_grid()
    assert all(round(float((t - first) / step)) == i for i, t in enumerate(starts))


@pytest.mark.parametrize("clock, start_time, start_frame, every, expected", [
    # nothing to drop: from the first frame, every frame
    (FrameClock.constant(90, Fraction(30)), Fraction(0), 0, 1, None),
    # frames before frame 10 go: the bound is half-way between frames 9 and 10
    (FrameClock.constant(90, Fraction(30)), Fraction(0), 10, 1, "gte(t,0.31666666666666665)"),
    # the stream's start time shifts the bound (timestamps are the file's, -copyts)
    (FrameClock.constant(90, Fraction(30)), Fraction(2), 10, 1, "gte(t,2.316666666666667)"),
    # constant rate, sampled: both conditions
    (FrameClock.constant(90, Fraction(30)), Fraction(0), 10, 5,
     "gte(t,0.31666666666666665)*not(mod(round((t-(0.0))/0.03333333333333333),5))"),
    # variable rate: no grid, only the start bound (gaps of 1/30, 1/30, then 1/10 s)
    (FrameClock((Fraction(0), Fraction(1, 30), Fraction(2, 30), Fraction(2, 30) + Fraction(1, 10)),
                Fraction(1)), Fraction(0), 2, 5, "gte(t,0.05)"),
])
def test_frame_selection_drops_only_frames_nobody_asked_for(clock, start_time, start_frame,
                                                            every, expected):
    assert frame_selection(clock, start_time, start_frame, every) == expected


# ------------------------------------------------------------------ evenly spaced starts

def _both(first: Fraction, step: Fraction, count: int) -> tuple[FrameClock, FrameClock]:
    """The same clock twice: frame starts as EvenStarts, and as a plain tuple."""
    starts = tuple(first + i * step for i in range(count))
    return (FrameClock(EvenStarts(first, step, count), starts[-1] + step),
            FrameClock(starts, starts[-1] + step))


@pytest.mark.parametrize("first, step, count", [
    (Fraction(0), Fraction(1, 30), 100),
    (Fraction(23, 1000), Fraction(1, 30), 217),      # a concatenation's offset start
    (Fraction(0), Fraction(1001, 30000), 50),         # NTSC
    (Fraction(-1, 10), Fraction(1, 25), 3),
])
def test_even_starts_answer_as_the_tuple_does(first, step, count):
    even, plain = _both(first, step, count)
    assert isinstance(even.starts, EvenStarts) and even == plain
    assert list(even.starts) == list(plain.starts)
    assert even.starts[-1] == plain.starts[-1] and even.starts[2:7:2] == plain.starts[2:7:2]
    with pytest.raises(IndexError):
        even.starts[count]
    assert even.regular_grid() == plain.regular_grid() == (first, step)
    assert even.typical_frame_duration() == plain.typical_frame_duration() == step
    probes = [first + k * step / 7 for k in range(-8, 7 * count + 9)]
    for t in probes:
        assert even.frame_at(t) == plain.frame_at(t), t
        assert even.nearest_frame(t) == plain.nearest_frame(t), t
        assert even.last_frame_before(t) == plain.last_frame_before(t), t


def test_even_starts_pickle_in_constant_size():
    """A 2-hour clock pickles in about as few bytes as a 1-second one (as a tuple: 3 MB)."""
    long, short = FrameClock.constant(217_620, Fraction(30)), FrameClock.constant(30, Fraction(30))
    assert len(pickle.dumps(short)) < len(pickle.dumps(long)) < 200  # 145 and 149 bytes
    assert pickle.loads(pickle.dumps(long)) == long


@pytest.mark.parametrize("starts, even", [
    ([Fraction(i, 30) for i in range(10)], True),
    ([Fraction(i, 30) for i in (3, 0, 2, 1)], True),                # unsorted input
    ([Fraction(0), Fraction(33, 1000), Fraction(66, 1000), Fraction(100, 1000)], False),  # ms
    ([Fraction(0), Fraction(1, 30), Fraction(3, 30)], False),       # a dropped frame
    ([Fraction(1, 30)], False),                                     # one frame
])
def test_from_timestamps_keeps_starts_evenly_only_when_exactly_even(starts, even):
    clock = FrameClock.from_timestamps(starts, None, Fraction(30))
    assert isinstance(clock.starts, EvenStarts) is even
    assert list(clock.starts) == sorted(starts)

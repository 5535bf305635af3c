import pytest

from fractions import Fraction
from types import SimpleNamespace

from facecut.planning import Chunk, chunk_count, max_chunk_frames, plan_chunks, plan_refinement
from facecut.scan import LocalBackend


def analysed(chunks):
    return [frame for chunk in chunks for frame in chunk.analysed_frames]


@pytest.mark.parametrize("frames, workers, interval", [
    (100, 4, 1), (101, 4, 1), (3, 4, 1), (1, 4, 1), (0, 4, 1), (100, 1, 1),
    (100, 4, 5), (99, 4, 5), (7, 2, 10), (587, 2, 3), (10, 16, 2),
])
def test_chunks_cover_each_analysed_frame_once(frames, workers, interval):
    chunks = plan_chunks(frames, workers, interval)
    assert analysed(chunks) == list(range(0, frames, interval))
    assert len(chunks) <= workers
    assert all(chunk.frame_count > 0 for chunk in chunks)
    assert all(c.stop_frame <= frames for c in chunks)
    sizes = [len(chunk.analysed_frames) for chunk in chunks]
    # balanced; only an empty video has no chunk at all
    assert max(sizes) - min(sizes) <= 1 if sizes else frames == 0
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))


def test_more_workers_than_frames():
    assert plan_chunks(3, 8, 1) == [Chunk(0, 0, 1, 1), Chunk(1, 1, 2, 1), Chunk(2, 2, 3, 1)]


def test_chunk_stops_after_its_last_analysed_frame():
    # frames 0..9 at interval 4: analysed 0, 4, 8; no chunk decodes 9
    assert plan_chunks(10, 2, 4) == [Chunk(0, 0, 5, 4), Chunk(1, 8, 9, 4)]


def test_empty_video_has_no_chunks():
    assert plan_chunks(0, 4, 1) == []


@pytest.mark.parametrize("frames, workers, interval", [(-1, 1, 1), (10, 0, 1), (10, 1, 0)])
def test_rejects_nonsense(frames, workers, interval):
    with pytest.raises(ValueError):
        plan_chunks(frames, workers, interval)


@pytest.mark.parametrize("frames, workers, max_frames, expected", [
    (485, 2, 9000, 2),        # short video: one chunk per cluster CPU
    (9000, 2, 9000, 2),
    (108000, 2, 9000, 12),    # an hour at 30 fps on 2 CPUs: 5-minute chunks
    (108001, 2, 9000, 13),
    (108000, 64, 9000, 64),   # a big cluster: one chunk per CPU
    (0, 4, 9000, 4),          # plan_chunks then returns none
])
def test_cluster_chunk_count(frames, workers, max_frames, expected):
    assert chunk_count(frames, workers, max_frames) == expected
    chunks = plan_chunks(frames, expected, 1)
    assert all(chunk.frame_count <= max(max_frames, -(-frames // workers)) for chunk in chunks)


@pytest.mark.parametrize("fps, expected", [
    (Fraction(30), 9000),
    (Fraction(30000, 1001), 8991),  # 299.9997 s: never longer than 5 minutes
    (Fraction(25), 7500),
    (Fraction(1, 600), 1),          # a slide show: still a frame per chunk
])
def test_max_chunk_frames(fps, expected):
    assert max_chunk_frames(fps) == expected


@pytest.mark.parametrize("seconds, processes, expected", [
    (62, 2, 2),      # the benchmark montage: one chunk per worker, as before
    (7200, 2, 24),   # 2 hours: killed at 50%, ~12 finished chunks are in the cache
    (7200, 32, 32),
])
def test_the_local_pool_caps_chunks_at_five_minutes(seconds, processes, expected):
    """Locally, too, a long video is split into chunks of at most 5 minutes, so the
    scan cache keeps finished work of a run that is killed (with one chunk per
    worker, a 2-hour run killed at 50% had finished none and rescanned all)."""
    video = SimpleNamespace(frame_count=seconds * 30, fps=Fraction(30))
    assert LocalBackend(None, processes)  # settings: models, not needed here.chunk_count(video) == expected


@pytest.mark.parametrize("workers, max_frames", [(0, 10), (1, 0)])
def test_cluster_chunk_count_rejects_nonsense(workers, max_frames):
    with pytest.raises(ValueError):
        chunk_count(100, workers, max_frames)


@pytest.mark.parametrize("ranges, join_within, expected", [
    ([], 10, []),
    ([(5, 5)], 10, []),                                    # empty ranges start nothing
    ([(161, 170), (171, 180)], 10, [(161, 180)]),          # both sides of one sample
    ([(161, 170), (171, 180)], 0, [(161, 170), (171, 180)]),
    ([(161, 170), (180, 190)], 10, [(161, 190)]),          # 10 frames between: joined
    ([(161, 170), (181, 190)], 10, [(161, 170), (181, 190)]),  # 11: two decoders
    ([(411, 420), (161, 170)], 10, [(161, 170), (411, 420)]),  # sorted first
    ([(10, 30), (12, 15)], 0, [(10, 30)]),                 # contained
    ([(3, 4), (4, 5)], 0, [(3, 5)]),                       # touching
])
def test_refinement_joins_near_ranges(ranges, join_within, expected):
    chunks = plan_refinement(ranges, join_within)
    assert [(c.start_frame, c.stop_frame) for c in chunks] == expected
    assert all(c.refine and c.interval == 1 for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    # every frame asked for is analysed
    wanted = {f for a, b in ranges for f in range(a, b)}
    assert wanted <= set(analysed(chunks))

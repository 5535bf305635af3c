"""Command line: parse arguments, run, map errors to one line and an exit code.

Exit codes follow grep: 0 = appearances found and written, 1 = the person never
appears (metadata.json still written), 2 = error, 128+N = stopped by signal N.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import __version__
from .analysis import EXIT_ERROR, EXIT_NOT_FOUND, batch_exit_code
from .config import (
    ClipMode,
    Config,
    CutMode,
    CutSettings,
    DiscoverySettings,
    Job,
    OutputSettings,
    ReferenceSet,
    ScanSettings,
    SegmentSettings,
)
from .errors import FacecutError, Interrupted, OutputError, UsageError
from .presets import ACCURATE, LINK_DISTANCE, SPEED, Preset

log = logging.getLogger(__name__)
BUG_HINT = "(this is a bug in facecut; rerun with --debug for the traceback)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _seconds(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _distance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _program_name() -> str:
    """How the user started us: `facecut`, `video_inference.py` or `python -m facecut`."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "facecut"
    return "python -m facecut" if name == "__main__.py" else name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_program_name(),
        description="Find every moment a person's face is on screen and cut those moments "
        "into clips with their sound, plus metadata.json.",
        epilog="Exit codes: 0 found, 1 not found (metadata still written), 2 error, "
        "130/143 interrupted. With several videos: 2 if any video failed (the "
        "others are still done), else 0 if the person was found in any, else 1.",
    )
    _add_inputs(parser.add_argument_group("inputs"))
    _add_scan_options(parser.add_argument_group("how to search"))
    _add_clip_options(parser.add_argument_group("appearances and clips"))
    _add_output_options(parser.add_argument_group("results"))
    _add_run_options(parser.add_argument_group("running"))
    return parser


def _add_inputs(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--video",
        required=True,
        nargs="+",
        metavar="PATH",
        help="the video(s) to search: files, folders (their video files, "
        "sorted) or glob patterns; each video gets its own results folder",
    )
    group.add_argument(
        "--reference",
        nargs="+",
        default=[],
        action="extend",
        metavar="[NAME=]PATH",
        help="photos of the person, or a folder of them (the largest face in each is "
        "used; a face matches by its distance to the closest photo). Several people "
        "in one scan: NAME=PHOTO[,PHOTO...] once per person, e.g. --reference "
        "host=host.jpg --reference guest=g1.jpg,g2.jpg; each gets their own clips in "
        "<results>/NAME/. Bare paths together are one person, named by the first file. "
        "Without --reference the people in the video are found with no photo (--people)",
    )
    group.add_argument(
        "--people",
        action="store_true",
        help="find the people in the video(s) with no photo: group every face track "
        "by its embeddings, write people.json and each person's faces "
        "(people/person_N.jpg), cut no clips unless --person asks (the default when "
        "no --reference is given)",
    )
    group.add_argument(
        "--person",
        type=_positive_int,
        action="append",
        default=[],
        metavar="N",
        help="with no photo: also cut person N's clips (people.json numbers them by how "
        "much of the video shows them; several allowed). A rerun with --overwrite cuts "
        "them from the scan cache without scanning again",
    )
    group.add_argument(
        "--link-distance",
        type=_distance,
        default=None,
        metavar="D",
        help="with no photo: face tracks are one person while their average embedding "
        f"distance is at most D (default {LINK_DISTANCE}). Lower "
        "it if two people share a number; raise it if one person has several",
    )


def _add_scan_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--speed",
        action="store_true",
        help=f"faster preset: {SPEED.description} (default preset: {ACCURATE.description})",
    )
    group.add_argument(
        "--interval",
        type=_positive_int,
        metavar="N",
        help=f"analyse every Nth frame (default {ACCURATE.interval}, "
        f"or {SPEED.interval} with --speed)",
    )
    group.add_argument(
        "--model",
        default="Dlib",
        metavar="NAME",
        help="DeepFace recognizer, e.g. Dlib (default, offline), ArcFace, Facenet512",
    )
    group.add_argument(
        "--detector",
        metavar="NAME",
        help="face detector: blazeface (default, offline), dlib (dlib's HOG at "
        f"{ACCURATE.detect_size} px, offline, slower), or another DeepFace detector, e.g. "
        "opencv, retinaface, yunet",
    )
    group.add_argument(
        "--min-face",
        type=_positive_int,
        metavar="PX",
        help="smallest face BlazeFace looks for, in pixels of a 1920x1080 frame (scaled "
        f"for other sizes; default {ACCURATE.min_face}, or {SPEED.min_face} with --speed); "
        "smaller costs more per frame",
    )
    group.add_argument(
        "--threshold",
        type=_distance,
        metavar="D",
        help="largest face distance that counts as a match (default per model: Dlib 0.5 Euclidean)",
    )


def _add_clip_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--min-gap",
        "--min_gap",
        type=_seconds,
        default=Fraction(1, 2),
        metavar="SECONDS",
        help="merge appearances separated by less (default 0.5)",
    )
    group.add_argument(
        "--min-duration",
        "--min_duration",
        type=_seconds,
        default=Fraction(0),
        metavar="SECONDS",
        help="drop appearances shorter than this (default 0)",
    )
    group.add_argument(
        "--padding",
        type=_seconds,
        default=Fraction(0),
        metavar="SECONDS",
        help="context added before and after each clip, within the video (default 0)",
    )
    group.add_argument(
        "--clips",
        choices=("exact", "reencode", "keyframe"),
        default=None,
        help="how clips are cut. exact (default): lossless and nearly free, the "
        "source's packets copied into mp4, whose edit list makes players show exactly "
        "the appearance's frames (clips of codecs mp4 cannot carry are re-encoded); "
        "reencode: x264, exact in every player, even those that ignore edit lists, "
        "but slower and not lossless; keyframe: lossless copy starting on the keyframe "
        "at or before the appearance (can be seconds early)",
    )
    group.add_argument(
        "--copy",
        action="store_true",
        help="the same as --clips keyframe (kept for existing scripts)",
    )
    group.add_argument(
        "--supercut",
        action="store_true",
        help="also write supercut.mp4: every appearance (with --padding) in time order in "
        "one file, each frame once, re-encoded (x264 + AAC; a lossless one cannot be "
        "made frame-exact with ffmpeg)",
    )
    group.add_argument(
        "--dry-run",
        "--dry_run",
        action="store_true",
        help="scan and write metadata.json, but cut no clips",
    )


def _add_output_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--output",
        metavar="DIR",
        help="results folder (default Results/<video file name without "
        "extension>); with several videos, the folder that holds one "
        "results folder per video (default Results)",
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results already in the output folder (once the new ones are complete)",
    )
    group.add_argument(
        "--no-cache",
        "--no_cache",
        action="store_true",
        help="neither read nor keep the scan cache (by default each video's "
        "scan is kept in <results>/.facecut-cache/, so a rerun that only "
        "changes --threshold, --min-gap, --min-duration, --padding, --copy "
        "or --dry-run decodes nothing, and a stopped scan resumes)",
    )
    group.add_argument(
        "--calibrate",
        action="store_true",
        help="scan, then print how far every face seen is from the reference "
        "(a text histogram) and a suggested --threshold; writes no "
        "results (the scan is cached, so the real run that follows is quick)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line per video on stdout (path, status, "
        "segments, seconds on screen, output folder) instead of a sentence",
    )


def _add_run_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--num_processes",
        "--num-processes",
        type=_positive_int,
        metavar="P",
        help="worker processes (default 4, capped at the CPU "
        "count); with --backend ray, the chunks each video "
        "is split into (default: the cluster's CPUs)",
    )
    group.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="where the scan runs: worker processes on this machine (default) "
        "or a Ray cluster's workers, with the chunks of every video spread "
        "over them (needs requirements-ray.txt and the videos on storage "
        "every node sees at the same path)",
    )
    group.add_argument(
        "--ray-address",
        "--ray_address",
        metavar="ADDR",
        help="with --backend ray: the cluster to join, as host:port of its "
        "head, or 'auto' for the cluster this machine belongs to "
        "(default: join the Ray instance running here, else start one)",
    )
    group.add_argument("--quiet", action="store_true", help="no progress bars")
    group.add_argument(
        "--debug",
        action="store_true",
        help="show every ffmpeg/ffprobe command (as a line you can paste), the "
        "run's decisions (chunks, refinement, cache), and a full "
        "traceback on errors",
    )
    group.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def _raise_on_signal(signum: int, _frame: Any) -> None:
    from .process import children

    children.kill_all()  # also marks the run as stopping
    # A second signal while we clean up: stop at once rather than raise mid-cleanup.
    for other in (signal.SIGINT, signal.SIGTERM):
        signal.signal(other, _exit_now)
    raise Interrupted(signum)


def _exit_now(signum: int, _frame: Any) -> None:
    from .process import children

    children.kill_all()
    os._exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)  # exits 2 with usage on bad arguments
    from . import log

    log.configure(logging.DEBUG if arguments.debug else logging.INFO)
    previous = {
        signum: signal.signal(signum, _raise_on_signal)
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        return _run_reporting(arguments)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run_reporting(arguments: argparse.Namespace) -> int:
    try:
        try:
            return _main(arguments)
        except KeyboardInterrupt:
            raise Interrupted(signal.SIGINT) from None
        except SystemError as error:
            # Our signal handler raised inside a C extension's call (Ray's wait):
            # Python wraps that in a SystemError caused by it.
            if isinstance(error.__cause__, Interrupted):
                raise error.__cause__ from None
            raise
    except Interrupted as stop:
        _report(stop, arguments.debug)
        return stop.exit_code
    except FacecutError as error:
        _report(error, arguments.debug)
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - a bug: one line and exit 2, never 1 ("not found")
        _report(error, arguments.debug)
        if not arguments.debug:
            _say(BUG_HINT, err=True)
        return EXIT_ERROR


def _report(error: BaseException, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc()
    known = isinstance(error, (FacecutError, Interrupted))
    text = str(error) if known else f"{type(error).__name__}: {error}"
    _say(f"error: {' '.join(text.split())}", err=True)


def _say(*lines: str, err: bool = False) -> None:
    """Write a message whole. tqdm's write mode holds its lock (videos finish on
    several threads with --backend ray, so two videos' lines or JSON records never
    mix) and clears the progress bars first, so the message starts on a line of its
    own; the bars are redrawn after."""
    from tqdm import tqdm

    stream = sys.stderr if err else sys.stdout
    with tqdm.external_write_mode(file=stream):
        stream.write("".join(f"{line}\n" for line in lines))
        stream.flush()


def _clip_mode(arguments: argparse.Namespace) -> ClipMode:
    if arguments.copy and arguments.clips not in (None, "keyframe"):
        raise UsageError(
            f"--copy means --clips keyframe, which contradicts --clips {arguments.clips}; "
            "give one of them"
        )
    if arguments.copy:
        return "keyframe"
    mode: ClipMode = arguments.clips or "exact"
    return mode


def build_config(arguments: argparse.Namespace, people: Sequence[ReferenceSet]) -> Config:
    """The run's one Config, from the command line (raises ModelError for an unknown
    --model, naming the choices)."""
    from .faces import default_threshold
    from .process import cpu_count

    preset = SPEED if arguments.speed else ACCURATE
    metric, model_threshold = default_threshold(arguments.model)
    discovery = _discovery(arguments, people, preset)
    mode: CutMode = "none" if arguments.dry_run else _clip_mode(arguments)
    detector = arguments.detector or preset.detector
    return Config(
        preset=preset,
        people=tuple(people),
        processes=min(arguments.num_processes or 4, cpu_count()),
        backend=arguments.backend,
        scan=ScanSettings(
            model=arguments.model,
            detector=detector,
            detect_size=preset.detect_size,
            interval=arguments.interval or preset.interval,
            metric=metric,
            model_threshold=model_threshold,
            min_face=_min_face(arguments, preset, detector),
            full_detect_every=preset.full_detect_every,
        ),
        segments=SegmentSettings(
            threshold=model_threshold if arguments.threshold is None else arguments.threshold,
            min_gap=arguments.min_gap,
            min_duration=arguments.min_duration,
        ),
        cut=CutSettings(mode=mode, padding=arguments.padding, encoding=preset.clip_encoding),
        output=OutputSettings(
            overwrite=arguments.overwrite,
            cache=not arguments.no_cache,
            calibrate=arguments.calibrate,
            progress=not arguments.quiet,
            supercut=arguments.supercut,
        ),
        discovery=discovery,
    )


def _discovery(
    arguments: argparse.Namespace, people: Sequence[ReferenceSet], preset: Preset
) -> DiscoverySettings | None:
    """With no photo, how tracks become people; None when people are named."""
    if people and arguments.people:
        raise UsageError(
            "--people finds the people with no photo, --reference searches for the ones "
            "in the photos: give one or the other"
        )
    if people:
        if arguments.person:
            raise UsageError(
                "--person picks a person found with no photo (no --reference); with "
                "--reference every person's clips are cut already: drop --person"
            )
        if arguments.link_distance is not None:
            raise UsageError(
                "--link-distance groups faces into people when there is no photo; with "
                "--reference each face is matched to the photos (--threshold): drop "
                "--link-distance"
            )
        return None
    if arguments.calibrate:
        raise UsageError("--calibrate measures faces against a photo: give --reference")
    if arguments.supercut and not arguments.person:
        raise UsageError(
            "--supercut joins the clips cut, and with no photo none are cut unless asked: "
            "add --person N (whose appearances to join)"
        )
    link = LINK_DISTANCE if arguments.link_distance is None else arguments.link_distance
    return DiscoverySettings(link_distance=link, selected=tuple(sorted(set(arguments.person))))


def _min_face(arguments: argparse.Namespace, preset: Preset, detector: str) -> int:
    from .blazeface import NAME as BLAZEFACE

    if detector != BLAZEFACE:
        if arguments.min_face is not None:
            raise UsageError(
                f"--min-face sets BlazeFace's smallest face; detector {detector!r} works at "
                f"{preset.detect_size} px instead: drop --min-face or use --detector blazeface"
            )
        return 0
    return int(arguments.min_face or preset.min_face)


def _inputs(
    arguments: argparse.Namespace,
) -> tuple[list[str], list[ReferenceSet], list[Path]]:
    """The videos, the people searched and each video's results folder (default
    Results/<video stem>; several videos: one folder each under --output or Results)."""
    from .inputs import VIDEO_SUFFIXES, expand, reference_sets, result_folders

    if any(not reference.strip() for reference in arguments.reference):
        raise UsageError("--reference is empty; give the path of a photo of the person")
    if any(not video.strip() for video in arguments.video):
        raise UsageError("--video is empty; give the path of a video")
    videos = expand(arguments.video, VIDEO_SUFFIXES, "video")
    people = reference_sets(arguments.reference)
    if len(videos) > 1:
        outputs = result_folders(videos, Path(arguments.output or "Results"))
    else:
        outputs = [
            Path(arguments.output) if arguments.output else Path("Results") / Path(videos[0]).stem
        ]
    if arguments.ray_address and arguments.backend != "ray":
        raise UsageError("--ray-address needs --backend ray")
    return videos, people, outputs


def _check_batch_file(base: Path, name: str, overwrite: bool) -> None:
    """Before anything is scanned: the batch's own file `name` (its supercut, its
    people.json) may be written."""
    if (base / name).exists() and not overwrite:
        raise OutputError(
            f"{base / name}: already exists (an earlier batch's); pass --overwrite to "
            "replace it, or choose another --output"
        )


def _embed_photos(config: Config, outputs: Sequence[Path], backend: Any) -> Any:
    """The reference photos' embeddings. Where some video will be scanned, the local
    workers start now and one of them embeds the photos, so their models load once,
    not here as well (~1 s of CPU). When every results folder holds a scan cache the
    pool waits until a chunk needs it: a rerun that only changes --threshold may scan
    nothing at all, and this process embeds the photos itself."""
    from .cache import CACHE_DIR
    from .pipeline import embed_references

    if backend is not None and (
        not config.output.cache or not all((output / CACHE_DIR).is_dir() for output in outputs)
    ):
        backend.start()
    workers = backend if backend is not None and backend.started else None
    return embed_references(config.people, config.scan, workers=workers)


def _probe_first(job: Job, as_json: bool) -> Any:
    """The single video, probed before anything starts; a failure is reported as a
    run's failure would be (with --json, also as the video's JSON line)."""
    from .pipeline import probe_video

    try:
        return probe_video(job)
    except FacecutError as error:
        _emit(as_json, _error_record(job.video, error))
        raise


def _open_results_first(config: Config, job: Job, arguments: argparse.Namespace) -> Any:
    """The single video's results folder, opened (locked); a refusal is reported as a
    run's failure would be (with --json, also as the video's JSON line)."""
    from .pipeline import results_folder

    results = results_folder(config, job)
    try:
        results.open()
    except FacecutError as error:
        _emit(arguments.json, _error_record(job.video, error))
        raise
    return results


def _main(arguments: argparse.Namespace) -> int:
    from . import blazeface
    from .scan import LocalBackend

    videos, people, outputs = _inputs(arguments)
    batch = len(videos) > 1
    config = build_config(arguments, people)
    if batch and config.output.supercut:
        from .cut import SUPERCUT

        _check_batch_file(_batch_base(arguments), SUPERCUT, arguments.overwrite)
    if batch and config.discovery is not None:
        if not config.output.cache:
            raise UsageError(
                "finding people with no photo across several videos reads each video's "
                "scan again from its scan cache: drop --no-cache"
            )
        from .output import PEOPLE

        _check_batch_file(_batch_base(arguments), PEOPLE, arguments.overwrite)
    log.debug(f"configuration: {config}")
    backend: Any = None
    if arguments.backend == "local":
        backend = LocalBackend(config.scan, config.processes)
    if config.scan.detector == blazeface.NAME:
        blazeface.check_installed()  # before any worker starts loading models
    # A single video is probed before any worker starts, so a missing, empty or
    # unreadable file is one line in a fraction of a second, not after the pool and
    # the photos (2-5 s here). A batch probes each video in turn: one bad video is
    # reported and skipped while the others are scanned.
    single = None if batch else Job(videos[0], outputs[0])
    probed = None if single is None else _probe_first(single, arguments.json)
    # Its results folder is locked next, before the workers load their models and the
    # photos are embedded (2 s alone, 6 s with 4 runs started at once by xargs -P 4):
    # a run whose folder another run holds, or that holds results, is refused at once.
    # A batch's videos lock theirs in turn.
    opened = None if single is None else _open_results_first(config, single, arguments)
    try:
        references = _embed_photos(config, outputs, backend)
        problems: dict[str, str] = {}
        if arguments.backend == "ray":
            from .cluster import RayBackend

            backend = RayBackend(arguments.ray_address, arguments.num_processes)
            problems = backend.unreadable_inputs(videos)
        jobs = [
            Job(video, output, bar_offset=1 if batch else 0)
            for video, output in zip(videos, outputs, strict=True)
        ]
        grouping: Any = None
        failed: list[int] = []
        batch_started = time.time()
        if batch and config.discovery is not None:
            # People found with no photo get one number across the batch: every video
            # is scanned first, its tracks grouped with all the others', then each
            # video's results are made from its scan cache.
            grouping, failed, jobs = _survey(config, jobs, references, backend, arguments, problems)
        codes = _run_jobs(
            jobs,
            lambda job: _run_one(
                config,
                job,
                references,
                backend,
                arguments,
                batch,
                problems.get(job.video),
                probed,
                opened,
                grouping,
            ),
            _videos_at_once(arguments, backend, len(jobs)),
            bar=batch and config.output.progress,
        )
    except BaseException:
        if opened is not None:
            opened.abort()  # nothing written yet, or run() aborted it already
        if backend is not None:
            backend.terminate()
        raise
    if backend is not None:
        backend.close()
    if batch and config.output.supercut:
        codes.append(_batch_supercut(config, outputs, _batch_base(arguments), arguments.json))
    if grouping is not None:
        # the videos this run wrote people.json for (a clip that failed, exit 2, still
        # committed its results)
        from .output import PEOPLE

        done = [job for job in jobs if _written_since(job.output / PEOPLE, batch_started)]
        if done:
            _write_batch_people(done, _batch_base(arguments))
    return batch_exit_code(failed + codes)


def _survey(
    config: Config,
    jobs: Sequence[Job],
    references: Any,
    backend: Any,
    arguments: argparse.Namespace,
    problems: dict[str, str],
) -> tuple[Any, list[int], list[Job]]:
    """A batch with no photo, first step: scan every video into its scan cache and
    group all their tracks. Returns the grouping, the exit codes of the videos that
    could not be scanned (each reported), and the jobs left to finish."""
    from .discovery import people_of
    from .errors import VideoError
    from .pipeline import results_folder, survey

    assert config.discovery is not None
    samples: dict[str, list[Any]] = {}

    def scan_one(job: Job) -> int:
        try:
            if job.video in problems:
                raise VideoError(problems[job.video])
            # refused now, not after every video of the batch is scanned
            results_folder(config, job).refuse_earlier_results()
            samples[job.video] = survey(config, job, references, backend)
        except Interrupted:
            raise
        except Exception as error:  # noqa: BLE001 - one video's failure; the batch goes on
            return _video_failed(job, error, arguments)
        return 0

    outcomes = _run_jobs(
        jobs,
        scan_one,
        _videos_at_once(arguments, backend, len(jobs)),
        bar=config.output.progress,
    )
    failed = [code for code in outcomes if code]
    left = [job for job, code in zip(jobs, outcomes, strict=True) if not code]
    every = [sample for job in left for sample in samples[job.video]]
    started = time.monotonic()
    grouping = people_of(every, config.scan.metric, config.discovery)
    log.info(
        f"{len(every)} tracks of {len(left)} video(s) grouped into {len(grouping.people)} "
        f"people in {time.monotonic() - started:.2f} s"
    )
    from .discovery import check_selected

    check_selected(config.discovery.selected, len(grouping.people))
    return grouping, failed, left


def _written_since(path: Path, started: float) -> bool:
    try:
        return path.stat().st_mtime >= started
    except OSError:
        return False


def _write_batch_people(jobs: Sequence[Job], base: Path) -> None:
    """A batch with no photo: base/people.json, every person found with the videos
    they are in (from each video's people.json)."""
    import json

    from .discovery import batch_people_document
    from .output import PEOPLE

    documents = []
    for job in jobs:
        try:
            documents.append((job, json.loads((job.output / PEOPLE).read_text())))
        except (OSError, ValueError):
            continue  # that video failed, and said so
    document = batch_people_document([(job.video, str(job.output), doc) for job, doc in documents])
    try:
        temporary = base / f".{PEOPLE}.partial"
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        temporary.replace(base / PEOPLE)
    except OSError as error:
        raise OutputError(f"{base / PEOPLE}: cannot write ({error.strerror})") from None


def _videos_at_once(arguments: argparse.Namespace, backend: Any, videos: int) -> int:
    """How many videos run at once: on a cluster several (on threads, so that signals
    reach the main thread outside Ray's calls), their chunks queued together; locally
    one at a time (0), using every worker."""
    return 0 if arguments.backend != "ray" else min(videos, backend.cpus + 1, 32)


def _batch_base(arguments: argparse.Namespace) -> Path:
    """The folder that holds a batch's results folders (and its supercut)."""
    return Path(arguments.output or "Results")


def _batch_supercut(config: Config, outputs: Sequence[Path], base: Path, as_json: bool) -> int:
    """--supercut with several videos: their supercuts in one file, base/supercut.mp4;
    the exit code it adds (a failure is an error, as a failed clip is)."""
    from .cut import SUPERCUT, cut_batch_supercut

    destination = base / SUPERCUT
    try:
        joined = cut_batch_supercut(outputs, destination, config.cut.encoding)
    except FacecutError as error:
        _report(error, debug=False)
        _emit(as_json, {"video": None, "status": "error", "error": str(error)})
        return EXIT_ERROR
    if as_json:
        _emit(
            True,
            {
                "video": None,
                "status": "supercut",
                "videos": joined,
                "output": str(destination) if joined else None,
            },
        )
    elif joined:
        _say(f"supercut of {joined} video(s): {destination}")
    return EXIT_NOT_FOUND if not joined else 0


def _run_jobs(
    jobs: Sequence[Job], run_job: Callable[[Job], int], at_once: int, bar: bool
) -> list[int]:
    """Every job's exit code, with a bar counting the videos done (a batch's)."""
    from tqdm import tqdm

    with tqdm(
        total=len(jobs),
        desc="videos",
        unit="video",
        position=0,
        leave=False,
        dynamic_ncols=True,
        disable=None if bar else True,
    ) as overall:
        return _run_all(jobs, run_job, at_once, overall)


def _run_all(jobs: Sequence[Any], run_job: Any, at_once: int, overall: Any) -> list[int]:
    """Each job's exit code, running up to `at_once` jobs on threads (0: one after
    another on this thread). On an interruption every job is told to stop and is
    waited for before it propagates."""
    if at_once < 1:
        codes = []
        for job in jobs:
            codes.append(run_job(job))
            overall.update(1)
        return codes
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from .process import children

    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="video") as executor:
        futures = [executor.submit(run_job, job) for job in jobs]
        try:
            for future in as_completed(futures):
                future.result()
                overall.update(1)
        except BaseException:
            children.kill_all()  # every job stops at its next check
            for future in futures:
                future.cancel()
            raise
    return [future.result() for future in futures]


def _run_one(
    config: Config,
    job: Job,
    references: Any,
    backend: Any,
    arguments: argparse.Namespace,
    batch: bool,
    problem: str | None = None,
    video: Any = None,
    results: Any = None,
    grouping: Any = None,
) -> int:
    """Run one video and say how it went: stdout gets only the result (a sentence or
    one JSON line), stderr the error. Interruptions stop everything; any other
    failure of one video in a batch is reported and the batch goes on. `problem`:
    why the video cannot be scanned at all (found before the run); `video`: the
    job's video, if already probed; `results`: its results folder, if opened."""
    from .errors import VideoError
    from .pipeline import run

    try:
        if problem is not None:
            raise VideoError(problem)
        report = run(config, job, references, backend, video, results, grouping)
    except Interrupted:
        raise
    except Exception as error:
        if not batch:
            if arguments.json:
                _emit(True, _error_record(job.video, error))
            raise
        return _video_failed(job, error, arguments)
    if report.distances is not None:
        _print_calibration(job.video, report, arguments.json)
        return report.exit_code
    _say_result(config, job, report, arguments.json, batch)
    if report.clips_failed:
        _say(f"{job.video}: {report.clips_failed} clip(s) failed; see metadata.json", err=True)
    return report.exit_code


def _say_result(config: Config, job: Job, report: Any, as_json: bool, batch: bool) -> None:
    """stdout: the video's result, as a sentence or one JSON line."""
    status = "found" if report.segments else "not_found"
    if as_json:
        _emit(
            True,
            {
                "video": job.video,
                "status": status,
                "segments": report.segments,
                "seconds_on_screen": report.seconds_on_screen,
                "output": str(report.output),
                "clips_failed": report.clips_failed,
                "dry_run": config.cut.mode == "none",
                "people": [
                    {"name": name, "segments": count, "seconds_on_screen": on_screen}
                    for name, count, on_screen in report.people
                ],
            },
        )
    else:
        where = f"{job.video}: " if batch else ""
        what = "metadata.json" if config.cut.mode == "none" else "clips and metadata.json"
        if config.discovery is not None:
            clips = "clips, " if config.discovery.selected and config.cut.mode != "none" else ""
            what = f"{clips}people.json and metadata.json"
            if not report.people:
                _say(f"{where}no one was found; {what} in {report.output}")
                return
        if len(report.people) > 1 or config.discovery is not None:
            found = "; ".join(
                f"{name}: {count} appearance(s), {on_screen:.2f} s"
                if count
                else f"{name}: not found"
                for name, count, on_screen in report.people
            )
            written = what if report.segments else "metadata.json"
            _say(f"{where}{found}; {written} in {report.output}")
        elif report.segments:
            _say(
                f"{where}{report.segments} appearance(s), {report.seconds_on_screen:.2f} s on "
                f"screen; {what} in {report.output}"
            )
        else:
            _say(f"{where}the person was not found; metadata.json in {report.output}")


def _print_calibration(video: str, report: Any, as_json: bool) -> None:
    from .calibrate import histogram, suggest_threshold

    split = suggest_threshold(report.distances)
    if as_json:
        _emit(
            True,
            {
                "video": video,
                "status": "calibrated",
                "faces": len(report.distances),
                "distances": [round(d, 4) for d in report.distances],
                "threshold_in_use": report.threshold,
                "suggested_threshold": split.threshold if split else None,
                "clear_split": bool(split and split.clear),
            },
        )
        return
    lines = [
        f"{video}: distances of {len(report.distances)} embedded faces to the closest "
        f"reference photo ({report.metric}; threshold in use {report.threshold}):"
    ]
    lines += [f"  {line}" for line in histogram(report.distances, threshold=report.threshold)]
    if split is None:
        lines.append("no suggestion: fewer than two different distances")
    elif split.clear:
        lines.append(
            f"suggested --threshold {split.threshold}: the faces split into "
            f"{split.below} near (the person) and {split.above} far (others)"
        )
    else:
        lines.append(
            f"no clear split (separation {split.separation:.2f}); the best cut would "
            f"be {split.threshold}, but the faces do not form two groups: keep the "
            "default unless you know better"
        )
    _say(*lines)


def _video_failed(job: Job, error: Exception, arguments: argparse.Namespace) -> int:
    """One video of a batch failed: say why (stderr, and its JSON line), and its exit
    code; the batch goes on."""
    _report(error, arguments.debug)
    if not isinstance(error, FacecutError):
        _say(BUG_HINT, err=True)
    _emit(arguments.json, _error_record(job.video, error))
    return error.exit_code if isinstance(error, FacecutError) else EXIT_ERROR


def _error_record(video: str, error: Exception) -> dict[str, Any]:
    return {
        "video": video,
        "status": "error",
        "error": " ".join(str(error).split()),
        "segments": 0,
        "seconds_on_screen": 0.0,
        "output": None,
    }


def _emit(as_json: bool, record: dict[str, Any]) -> None:
    if as_json:
        import json

        _say(json.dumps(record))

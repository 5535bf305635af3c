#!/usr/bin/env python3
"""Benchmark: the local pool against --backend ray on this machine, on the 720p
benchmark montage (bench/run.py's), default preset, no scan cache.

    python bench/cluster.py [--workdir bench/out] [--processes 2]

Runs, in one invocation:
  local          the local pool, --num_processes P
  ray (start)    --backend ray with no address: the tool starts a local Ray instance
                 (P CPUs) and stops it at the end, so Ray's start-up is in the time
  ray (joined)   --backend ray --ray-address of a head this script started (P CPUs):
                 what a run on a cluster that is already up costs
and the same two-video batch (the montage and a copy) through local and ray (joined),
where Ray queues the chunks of both videos together.

Prints wall time, scan and cut seconds, and whether each run's segments (frames,
boxes, distances, tracks) equal the local pool's.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import montage as montage_builder  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_head(cpus: int, env: dict[str, str], temp: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", f"--port={port}",
         f"--num-cpus={cpus}", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
         "--disable-usage-stats", f"--temp-dir={temp}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return head, f"127.0.0.1:{port}"
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("ray start failed")
            time.sleep(0.5)


def run(name: str, videos: list[Path], reference: Path, out: Path, args: list[str],
        env: dict[str, str]) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, str(ROOT / "video_inference.py"), "--video", *map(str, videos),
               "--reference", str(reference), "--output", str(out), "--quiet", "--no-cache",
               *args]
    started = time.monotonic()
    process = subprocess.run(command, capture_output=True, text=True,
                             env={**env, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"{name}: exit {process.returncode}: {process.stderr.strip()[-2000:]}")
    folders = [out] if len(videos) == 1 else sorted(p for p in out.iterdir() if p.is_dir())
    docs = [json.loads((folder / "metadata.json").read_text()) for folder in folders]
    row = {"run": name, "wall": wall,
           "scan": sum(d["stats"]["seconds_scan"] for d in docs),
           "cut": sum(d["stats"]["seconds_cut"] for d in docs),
           "video_seconds": sum(d["video"]["duration"] for d in docs),
           "segments": [d["segments"] for d in docs]}
    print(f"  {name}: {wall:.1f} s", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(args.workdir) / "cluster"
    workdir.mkdir(parents=True, exist_ok=True)
    montage = montage_builder.build(montage_builder.benchmark_parts(), workdir / "montage.mp4",
                                    1280, 720)
    copy = workdir / "copy" / "montage-2.mp4"
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(montage.path, copy)
    reference = montage_builder.reference_photo(workdir / "reference.png")
    p = str(args.processes)
    print(f"montage: {montage.path} ({montage.frame_count} frames, "
          f"{float(montage.time_of(montage.frame_count)):.1f} s, 1280x720); {p} processes / "
          f"Ray CPUs; {os.cpu_count()} CPUs on this machine", flush=True)

    env = dict(os.environ)
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
    rows = [run("local", [montage.path], reference, workdir / "local", ["--num_processes", p], env)]
    # the tool starts (and stops) its own local Ray instance: the machine's CPUs
    own = {key: value for key, value in env.items() if not key.startswith("RAY_AUTH")}
    rows.append(run("ray (start)", [montage.path], reference, workdir / "ray-start",
                    ["--backend", "ray"], own))
    head, address = start_head(args.processes, env, workdir / "ray-temp")
    try:
        rows.append(run("ray (joined)", [montage.path], reference, workdir / "ray-joined",
                        ["--backend", "ray", "--ray-address", address], env))
        batch = [montage.path, copy]
        rows.append(run("local x2", batch, reference, workdir / "local-x2",
                        ["--num_processes", p], env))
        rows.append(run("ray x2", batch, reference, workdir / "ray-x2",
                        ["--backend", "ray", "--ray-address", address], env))
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(timeout=60)

    local = rows[0]["segments"][0]
    print()
    header = f"{'run':<13} {'videos':>6} {'wall s':>7} {'scan s':>7} {'cut s':>6} {'x realtime':>10}  same as local"
    print(header)
    print("-" * len(header))
    for row in rows:
        same = all(segments == local for segments in row["segments"])
        print(f"{row['run']:<13} {len(row['segments']):>6} {row['wall']:>7.1f} {row['scan']:>7.1f} "
              f"{row['cut']:>6.1f} {row['video_seconds'] / row['wall']:>10.2f}  {'yes' if same else 'NO'}")
    print("\nscan and cut are summed over the batch's videos (they overlap with Ray)")


if __name__ == "__main__":
    main()

"""Benchmark of the browser app: how long each action takes on an idle server, and many
Compose requests at once.

Starts `bachgan app`'s server in this process on a free local port (the shipped model, Bach's
reference numbers loaded first). Then, through the HTTP API with gradio_client, as a visitor
would: Compose --bars bars, Regenerate bars 5-6 of that piece (or the last two), and
Harmonize a melody of --bars bars (the soprano of a composed piece, uploaded as MIDI), each
alone, the median of 5 with every file downloaded; then --requests Compose requests at the
same time from as many clients in threads: whether all succeeded, requests per second and
latency percentiles.

    python benchmarks/bench_app.py [--requests 8] [--bars 16] [--meter 3/4]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from gradio_client import Client, handle_file

from bachgan.app import KEY_CHOICES, VOICES, launch
from bachgan.generation.compose import generate
from bachgan.io.midi import write_midi
from bachgan.studio import Studio

REPEATS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(action, *args, **kwargs) -> float:
    """Seconds one request takes, its files downloaded."""
    started = time.perf_counter()
    _, wav, *_ = action(*args, **kwargs)
    if not wav:
        raise RuntimeError("no audio came back")
    return time.perf_counter() - started


def compose(client: Client, seed: int, bars: int, meter: str) -> tuple:
    """Compose in the model's key, without phrase ends."""
    return client.predict(str(seed), KEY_CHOICES[0], meter, bars, 80, 1, "", api_name="/compose")


def regenerate(client: Client, seed: int, bars: int) -> tuple:
    """Regenerate two bars of every voice of the client's current piece."""
    first = 5 if bars >= 6 else max(1, bars - 1)
    return client.predict(first, first + 1, VOICES, str(seed), api_name="/compose_regenerate")


def harmonize(client: Client, melody: Path, seed: int) -> tuple:
    return client.predict(
        handle_file(str(melody)), "Frère Jacques", seed, "soprano", 0, "", api_name="/harmonize"
    )


def melody_file(studio: Studio, bars: int, meter: str, folder: Path) -> Path:
    """The soprano of a composed piece, as a one-track MIDI file."""
    (piece,) = generate(1, bars, 99, studio.model, meter=meter)
    soprano = replace(
        piece,
        sounding=piece.sounding[:1],
        onsets=piece.onsets[:1],
        track_names=piece.track_names[:1],
        programs=piece.programs[:1],
    )
    return write_midi(soprano, folder / "melody.mid")


def alone(url: str, studio: Studio, bars: int, meter: str) -> dict[str, float]:
    """Median seconds of each action on an otherwise idle server."""
    client = Client(url, verbose=False)
    compose(client, 0, bars, meter)  # warm-up
    times: dict[str, list[float]] = {"Compose": [], "Regenerate": [], "Harmonize": []}
    with tempfile.TemporaryDirectory() as folder:
        melody = melody_file(studio, bars, meter, Path(folder))
        for seed in range(1, REPEATS + 1):
            times["Compose"].append(timed(compose, client, seed, bars, meter))
            times["Regenerate"].append(timed(regenerate, client, seed, bars))
            times["Harmonize"].append(timed(harmonize, client, melody, seed))
    return {action: float(np.median(seconds)) for action, seconds in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--meter", default="4/4")
    args = parser.parse_args()
    studio = Studio()
    studio.reference()
    port = free_port()
    app = launch(studio, port=port, block=False)
    url = f"http://127.0.0.1:{port}/"

    def one_visitor(seed: int) -> float:
        return timed(compose, Client(url, verbose=False), seed, args.bars, args.meter)

    try:
        medians = alone(url, studio, args.bars, args.meter)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.requests) as pool:
            futures = [pool.submit(one_visitor, seed) for seed in range(args.requests)]
            outcomes = [f.exception() or f.result() for f in futures]
        wall = time.perf_counter() - started
    finally:
        app.close()
    latencies = np.array([o for o in outcomes if isinstance(o, float)])
    failures = [o for o in outcomes if not isinstance(o, float)]
    print(f"| {args.bars} bars of {args.meter} | value |")
    print("|---|---|")
    for action, seconds in medians.items():
        print(f"| {action} alone (median of {REPEATS}) | {seconds:.2f} s |")
    print(f"| {args.requests} Compose requests at once: succeeded | {len(latencies)} |")
    print(f"| wall time | {wall:.2f} s |")
    print(f"| requests per second | {len(latencies) / wall:.2f} |")
    for q in (50, 90, 100):
        print(f"| latency p{q} | {np.percentile(latencies, q):.2f} s |")
    for failure in failures:
        print(f"failed: {failure!r}")


if __name__ == "__main__":
    main()

"""Benchmark of the browser app: how long each action takes on an idle server, and many
Compose requests at once.

Starts `bachgan app`'s server in this process on a free local port (the shipped model, Bach's
reference numbers, from the training chorales or --data, loaded first). Then, through the
HTTP API with gradio_client, as a visitor would: Compose --bars bars, Regenerate bars 5-6 of
that piece (or the last two), and Harmonize a melody of --bars bars (the soprano of a
composed piece, uploaded as MIDI), each alone, the median of --repeats (5) with every file
downloaded; then --requests Compose requests at the same time from as many clients in
threads: whether all succeeded, requests per second and latency percentiles.

    python benchmarks/app_speed.py [--requests 8] [--bars 16] [--meter 3/4] [--repeats 5]
        [--data PATH]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import add_data_option, print_header, print_row, reference_rolls, timed
from gradio_client import Client, handle_file

from bachgan.app import KEY_CHOICES, VOICES, launch
from bachgan.generation.compose import generate
from bachgan.io.midi import write_midi
from bachgan.studio import Studio


def free_port() -> int:
    """A local TCP port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request_seconds(action, *args) -> float:
    """Seconds one request takes, its files downloaded."""
    (_, wav, *_), seconds = timed(action, *args)
    if not wav:
        raise RuntimeError("no audio came back")
    return seconds


def compose(client: Client, seed: int, bars: int, meter: str) -> tuple:
    """Compose in the model's key, without phrase ends."""
    return client.predict(str(seed), KEY_CHOICES[0], meter, bars, 80, 1, "", api_name="/compose")


def regenerate(client: Client, seed: int, bars: int) -> tuple:
    """Regenerate two bars of every voice of the client's current piece."""
    first = 5 if bars >= 6 else max(1, bars - 1)
    return client.predict(first, first + 1, VOICES, str(seed), api_name="/compose_regenerate")


def harmonize(client: Client, melody: Path, seed: int) -> tuple:
    """Harmonize the uploaded ``melody`` as the soprano."""
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


def alone(url: str, studio: Studio, bars: int, meter: str, repeats: int) -> dict[str, float]:
    """Median seconds of each action over ``repeats`` requests on an otherwise idle server."""
    client = Client(url, verbose=False)
    compose(client, 0, bars, meter)  # warm-up
    times: dict[str, list[float]] = {"Compose": [], "Regenerate": [], "Harmonize": []}
    with tempfile.TemporaryDirectory() as folder:
        melody = melody_file(studio, bars, meter, Path(folder))
        for seed in range(1, repeats + 1):
            times["Compose"].append(request_seconds(compose, client, seed, bars, meter))
            times["Regenerate"].append(request_seconds(regenerate, client, seed, bars))
            times["Harmonize"].append(request_seconds(harmonize, client, melody, seed))
    return {action: float(np.median(seconds)) for action, seconds in times.items()}


def at_once(url: str, requests: int, bars: int, meter: str) -> list:
    """Seconds of each of ``requests`` Compose requests sent at the same time from as many
    clients, or the exception a request raised."""

    def one_visitor(seed: int) -> float:
        return request_seconds(compose, Client(url, verbose=False), seed, bars, meter)

    with ThreadPoolExecutor(requests) as pool:
        futures = [pool.submit(one_visitor, seed) for seed in range(requests)]
        return [f.exception() or f.result() for f in futures]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--meter", default="4/4")
    parser.add_argument("--repeats", type=int, default=5, help="requests per action alone")
    add_data_option(parser)
    args = parser.parse_args()
    studio = Studio(reference=lambda: reference_rolls("train", args.data)[0])
    studio.reference()
    port = free_port()
    app = launch(studio, port=port, block=False)
    url = f"http://127.0.0.1:{port}/"

    try:
        medians = alone(url, studio, args.bars, args.meter, args.repeats)
        outcomes, wall = timed(at_once, url, args.requests, args.bars, args.meter)
    finally:
        app.close()
    latencies = np.array([o for o in outcomes if isinstance(o, float)])
    failures = [o for o in outcomes if not isinstance(o, float)]
    print_header(f"{args.bars} bars of {args.meter}", "value")
    for action, seconds in medians.items():
        print_row(f"{action} alone (median of {args.repeats})", f"{seconds:.2f} s")
    print_row(f"{args.requests} Compose requests at once: succeeded", len(latencies))
    print_row("wall time", f"{wall:.2f} s")
    print_row("requests per second", f"{len(latencies) / wall:.2f}")
    for q in (50, 90, 100):
        print_row(f"latency p{q}", f"{np.percentile(latencies, q):.2f} s")
    for failure in failures:
        print(f"failed: {failure!r}")


if __name__ == "__main__":
    main()

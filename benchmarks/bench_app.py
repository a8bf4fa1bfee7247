"""Load check of the browser app: many Compose requests at once from local clients.

Starts `bachgan app`'s server in this process on a free local port (the shipped model, Bach's
reference numbers loaded first), then sends --requests Compose requests at the same time from
as many gradio_client clients in threads, and prints whether all succeeded, requests per
second and latency percentiles (and, first, one request's latency on an idle server).

    python benchmarks/bench_app.py [--requests 20] [--bars 8] [--meter 3/4]
"""

from __future__ import annotations

import argparse
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from gradio_client import Client

from bachgan.app import KEY_CHOICES, launch
from bachgan.studio import Studio


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def compose(url: str, seed: int, bars: int, meter: str) -> float:
    """One client's request (the model's key, no phrase ends); returns its latency in
    seconds."""
    client = Client(url, verbose=False)
    started = time.perf_counter()
    _, wav, *_ = client.predict(
        str(seed), KEY_CHOICES[0], meter, bars, 80, 1, "", api_name="/compose"
    )
    if not wav:
        raise RuntimeError("no audio came back")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--meter", default="4/4")
    args = parser.parse_args()
    studio = Studio()
    studio.reference()
    port = free_port()
    app = launch(studio, port=port, block=False)
    url = f"http://127.0.0.1:{port}/"
    try:
        compose(url, 0, args.bars, args.meter)  # warm-up
        alone = np.median([compose(url, seed, args.bars, args.meter) for seed in range(5)])
        started = time.perf_counter()
        with ThreadPoolExecutor(args.requests) as pool:
            futures = [
                pool.submit(compose, url, s, args.bars, args.meter) for s in range(args.requests)
            ]
            outcomes = [f.exception() or f.result() for f in futures]
        wall = time.perf_counter() - started
    finally:
        app.close()
    latencies = np.array([o for o in outcomes if isinstance(o, float)])
    failures = [o for o in outcomes if not isinstance(o, float)]
    print(
        f"| {args.requests} concurrent Compose requests, {args.bars} bars of {args.meter} each "
        "| value |"
    )
    print("|---|---|")
    print(f"| one request alone (median of 5) | {alone:.2f} s |")
    print(f"| succeeded | {len(latencies)} of {args.requests} |")
    print(f"| wall time | {wall:.2f} s |")
    print(f"| requests per second | {len(latencies) / wall:.2f} |")
    for q in (50, 90, 100):
        print(f"| latency p{q} | {np.percentile(latencies, q):.2f} s |")
    for failure in failures:
        print(f"failed: {failure!r}")


if __name__ == "__main__":
    main()

"""How a completion model's revision rounds trade time for harmony: the numbers behind the
default `Revisions` (docs/ABLATIONS.md).

For each setting ROUNDS[:TEMPERATURE], composes 200 pieces of 4 bars and times one 16-bar
piece (median of 5), then measures the harmony numbers and the tree judge against 120
training chorales (the held-out chorales are kept for the final table).

    python benchmarks/revisions.py --model PATH [--settings 0 4 8 16 32 16:0.5]

Needs runs/train.npz (`bachgan prepare bach --split train --out runs/train.npz`).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from bachgan.completion import Revisions
from bachgan.corpus import load_rolls
from bachgan.evaluate import evaluate
from bachgan.sample import generate, load_model

PIECES = 200
REFERENCE_PIECES = 120
HARMONY = (
    "complete sonorities (share of eighths)",
    "dissonant sonorities on beats 1 and 3",
    "held chords per window",
    "bass moves by step",
    "oscillations per window",
    "tritone leaps per window",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a completion checkpoint")
    parser.add_argument("--settings", nargs="+", default=["0", "4", "8", "16", "32"])
    parser.add_argument("--data", default="runs/train.npz")
    args = parser.parse_args()
    training, _ = load_rolls(args.data)
    chosen = np.random.default_rng(0).permutation(len(training))[:REFERENCE_PIECES]
    reference = [training[i] for i in chosen]
    loaded = load_model(args.model)
    print("| rounds:temperature | s per 16 bars | tree judge |", " | ".join(HARMONY), "|")
    print("|---" * (3 + len(HARMONY)) + "|")
    for setting in args.settings:
        rounds, _, temperature = setting.partition(":")
        revisions = Revisions(rounds=int(rounds), temperature=float(temperature or 0))
        seconds = statistics.median(_time_one(loaded, revisions, seed) for seed in range(5))
        pieces = generate(PIECES, 4, 1, loaded, revisions=revisions, final_chord=False)
        numbers = evaluate(pieces, reference, judges=("tree",)).numbers
        tree = numbers["judges"]["tree"]["generated"]["mean"]
        harmony = [numbers["harmony"]["generated"][name] for name in HARMONY]
        cells = " | ".join(f"{value:.3f}" for value in harmony)
        print(f"| {setting} | {seconds:.3f} | {tree:.3f} | {cells} |", flush=True)


def _time_one(loaded, revisions: Revisions, seed: int) -> float:
    start = time.perf_counter()
    generate(1, 16, seed, loaded, revisions=revisions)
    return time.perf_counter() - start


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()

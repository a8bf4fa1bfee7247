"""What tells a model's pieces from Bach's: the numbers behind "What gives the model away" in
docs/ABLATIONS.md (the summary metrics; docs/RESULTS.md has the harmony judges).

Samples 200 pieces of 4 bars (seed 0, decoded as `bachgan generate` decodes them) and, for
each metric, prints the means, the two-sample classifier's accuracy on that metric alone, and
the accuracy on all metrics when that metric's column is replaced by values drawn from the
training chorales' windows (what the classifier would say if the model matched Bach on that
metric alone, all else equal); with --fix, also the accuracy with those metrics replaced
together. The held-out chorales are the reference side, as in the quality table.

    python benchmarks/giveaways.py [--model PATH] [--fix in_key_ratio voice_crossing_rate]

Needs runs/train.npz and runs/heldout.npz (`bachgan prepare bach --split train|heldout`).
"""

from __future__ import annotations

import argparse

import numpy as np

from bachgan.evaluation.evaluate import as_windows
from bachgan.evaluation.metrics import FEATURES, classifier_accuracy, piece_features
from bachgan.generation.compose import generate
from bachgan.io.corpus import load_rolls

PIECES = 200


def features(rolls: list) -> np.ndarray:
    """One row of metrics per key-normalised 4-bar window."""
    return np.array([piece_features(roll) for roll in as_windows(rolls)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint (default: the shipped model)")
    parser.add_argument("--fix", nargs="+", choices=list(FEATURES), default=[])
    args = parser.parse_args()
    generated = features(generate(PIECES, 4, 0, args.model, final_chord=False))
    reference = features(load_rolls("runs/heldout.npz")[0])
    training = features(load_rolls("runs/train.npz")[0])
    rng = np.random.default_rng(1)
    print(f"classifier on all metrics: {classifier_accuracy(reference, generated):.3f}\n")
    print("| metric | held-out Bach | model | classifier on it alone | classifier, it fixed |")
    print("|---|---|---|---|---|")
    for k, name in enumerate(FEATURES):
        fixed = with_bach_values(generated, training, [k], rng)
        print(
            f"| {name} | {reference[:, k].mean():.3f} | {generated[:, k].mean():.3f} | "
            f"{classifier_accuracy(reference[:, [k]], generated[:, [k]]):.3f} | "
            f"{classifier_accuracy(reference, fixed):.3f} |"
        )
    if args.fix:
        columns = [list(FEATURES).index(name) for name in args.fix]
        fixed = with_bach_values(generated, training, columns, rng)
        print(f"\nclassifier with {', '.join(args.fix)} fixed together: ", end="")
        print(f"{classifier_accuracy(reference, fixed):.3f}")


def with_bach_values(
    generated: np.ndarray, training: np.ndarray, columns: list[int], rng: np.random.Generator
) -> np.ndarray:
    """``generated`` with ``columns`` replaced by values drawn from the training windows'."""
    fixed = generated.copy()
    for k in columns:
        fixed[:, k] = training[rng.integers(len(training), size=len(fixed)), k]
    return fixed


if __name__ == "__main__":
    main()

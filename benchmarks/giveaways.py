"""What tells a model's pieces from Bach's: the numbers behind "What gives the model away" in
docs/ABLATIONS.md (the summary metrics; docs/RESULTS.md has the harmony judges).

Samples --pieces pieces of 4 bars (seed 0, decoded as `bachgan generate` decodes them) and, for
each metric, prints the means, the two-sample classifier's accuracy on that metric alone, and
the accuracy on all metrics when that metric's column is replaced by values drawn from the
training chorales' windows (what the classifier would say if the model matched Bach on that
metric alone, all else equal); with --fix, also the accuracy with those metrics replaced
together. The held-out chorales are the reference side, as in the quality table.

    python benchmarks/giveaways.py [--model PATH] [--fix in_key_ratio voice_crossing_rate]
        [--pieces 200] [--data PATH]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import add_data_option, add_model_option, print_header, print_row, reference_rolls

from bachgan.evaluation.evaluate import as_windows
from bachgan.evaluation.metrics import FEATURES, classifier_accuracy, piece_features
from bachgan.generation.compose import generate


def features(rolls: list) -> np.ndarray:
    """One row of metrics per key-normalised 4-bar window."""
    return np.array([piece_features(roll) for roll in as_windows(rolls)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_option(parser)
    parser.add_argument("--fix", nargs="+", choices=list(FEATURES), default=[])
    parser.add_argument("--pieces", type=int, default=200)
    add_data_option(parser)
    args = parser.parse_args()
    generated = features(generate(args.pieces, 4, 0, args.model, final_chord=False))
    reference = features(reference_rolls("heldout", args.data)[0])
    training = features(reference_rolls("train", args.data)[0])
    rng = np.random.default_rng(1)
    print(f"classifier on all metrics: {classifier_accuracy(reference, generated):.3f}\n")
    print_header(
        "metric", "held-out Bach", "model", "classifier on it alone", "classifier, it fixed"
    )
    for k, name in enumerate(FEATURES):
        fixed = with_bach_values(generated, training, [k], rng)
        print_row(
            name,
            f"{reference[:, k].mean():.3f}",
            f"{generated[:, k].mean():.3f}",
            f"{classifier_accuracy(reference[:, [k]], generated[:, [k]]):.3f}",
            f"{classifier_accuracy(reference, fixed):.3f}",
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

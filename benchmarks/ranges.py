"""Benchmark: how much of each key's music a choir can sing. For every key, --pieces pieces of
--bars bars from the shipped model (composed in C major / A minor and moved to the key), and
the share of their notes outside the voices' usual ranges (`metrics.USUAL_RANGES`: soprano
C4-A5, alto F3-D5, tenor C3-A4, bass E2-E4), with the soprano's highest and the bass's lowest
note on average.

    python benchmarks/ranges.py [--pieces 20] [--bars 8]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import print_header, print_row

from bachgan.evaluation.metrics import out_of_range_rate
from bachgan.generation.compose import generate
from bachgan.generation.loading import load_model
from bachgan.theory import KEY_NAMES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=20)
    parser.add_argument("--bars", type=int, default=8)
    args = parser.parse_args()
    model = load_model()
    print_header("key", "notes outside the ranges", "soprano's highest", "bass's lowest")
    for key in KEY_NAMES:
        pieces = generate(args.pieces, args.bars, 5, model, key=key)
        notes = [piece.notes() for piece in pieces]
        outside = np.average(
            [out_of_range_rate(piece) for piece in pieces], weights=[len(n) for n in notes]
        )
        highest = np.mean([n.pitch[n.track == 0].max() for n in notes])
        lowest = np.mean([n.pitch[n.track == 3].min() for n in notes])
        print_row(key, f"{outside:.3f}", f"{highest:.1f}", f"{lowest:.1f}")


if __name__ == "__main__":
    main()

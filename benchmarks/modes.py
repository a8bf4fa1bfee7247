"""How often a piece asked for a key is in it: the share of pieces whose best-fitting key
(Krumhansl-Schmuckler, over all their notes) has the asked mode and tonic.

    python benchmarks/modes.py [--model PATH] [--pieces 100] [--bars 8] [--meter 3/4]
"""

from __future__ import annotations

import argparse

import torch
from common import add_model_option, print_header, print_row

from bachgan.evaluation.metrics import best_key
from bachgan.generation.compose import generate
from bachgan.generation.loading import load_model
from bachgan.theory import parse_key

KEYS = ("C major", "A minor", "D major", "F# minor", "Bb major", "G minor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_option(parser)
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--meter", default="4/4")
    args = parser.parse_args()
    model = load_model(args.model)
    print_header("asked key", "mode honoured", "tonic and mode honoured")
    for key in KEYS:
        fifths, mode = parse_key(key)
        tonic = (7 * fifths + (9 if mode == "minor" else 0)) % 12
        pieces = generate(args.pieces, args.bars, 0, model, key=key, meter=args.meter)
        found = [best_key(piece) for piece in pieces]
        modes = sum(found_mode == mode for _, found_mode in found) / len(found)
        both = sum(found_key == (tonic, mode) for found_key in found) / len(found)
        print_row(key, f"{modes:.2f}", f"{both:.2f}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()

"""How much of a region `bachgan regenerate` rewrites, and what that costs the harmony: the
share of the region's notes that are new over many tries with the shipped model, for each
cost of keeping an old pitch (``novelty``), beside the region's sonorities before and after.

Composes --tries 8-bar pieces (seeds 100, 101...) and regenerates the alto and tenor of
bars 5-6 of each with seed equal to the try's number; the sonorities are measured over bars
4-7 (the region and the bars it joins).

    python benchmarks/regenerate_share.py [--tries 50] [--novelty 0 1 2 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import print_header, print_row

from bachgan.evaluation.harmony_profile import harmony_profile
from bachgan.generation.compose import generate
from bachgan.generation.loading import load_model
from bachgan.generation.regenerate import regenerate

ROWS, FIRST, STOP = (1, 2), 64, 96
AROUND = (48, 112)
MEASURES = (
    "complete sonorities (share of eighths)",
    "dissonant sonorities (share of eighths)",
    "repeated notes, voice 2",
    "repeated notes, voice 3",
)


def region_notes(roll) -> set:
    """The notes of the alto and tenor that start in bars 5-6."""
    return {n for n in roll.notes().to_tuples() if n[0] in ROWS and FIRST <= n[2] < STOP}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument("--novelty", type=float, nargs="+", default=[0.0, 1.0, 2.0, 3.0])
    args = parser.parse_args()
    model = load_model()
    pieces = [generate(1, 8, 100 + trial, model)[0] for trial in range(args.tries)]
    print_header("novelty", "notes rewritten, mean", "median", "least", "unchanged", *MEASURES)
    before = harmony_profile([p.slice_steps(*AROUND) for p in pieces])
    print_row("(before)", "", "", "", "", *(f"{before[m]:.3f}" for m in MEASURES))
    for novelty in args.novelty:
        shares, regions = [], []
        for trial, piece in enumerate(pieces):
            new = regenerate(piece, (5, 6), ["alto", "tenor"], trial, model, novelty=novelty)
            old = region_notes(piece)
            shares.append(1 - len(old & region_notes(new)) / max(len(old), 1))
            regions.append(new.slice_steps(*AROUND))
        shares = np.array(shares)
        after = harmony_profile(regions)
        summary = [f"{novelty:g}", *(f"{v:.2f}" for v in (shares.mean(), np.median(shares)))]
        summary += [f"{shares.min():.2f}", str(int((shares == 0).sum()))]
        print_row(*summary, *(f"{after[m]:.3f}" for m in MEASURES))


if __name__ == "__main__":
    main()

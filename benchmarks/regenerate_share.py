"""How much of a region `bachgan regenerate` rewrites: the share of the region's notes that
are new, over many tries with the shipped model.

Composes --tries 8-bar pieces (seeds 100, 101...) and regenerates the alto and tenor of
bars 5-6 of each with seed equal to the try's number.

    python benchmarks/regenerate_share.py [--tries 50]
"""

from __future__ import annotations

import argparse

import numpy as np

from bachgan.regions import regenerate
from bachgan.sample import generate, load_model

ROWS, FIRST, STOP = (1, 2), 64, 96


def region_notes(roll) -> set:
    return {n for n in roll.notes().to_tuples() if n[0] in ROWS and FIRST <= n[2] < STOP}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=50)
    args = parser.parse_args()
    model = load_model()
    shares = []
    for trial in range(args.tries):
        (piece,) = generate(1, 8, 100 + trial, model)
        new = regenerate(piece, (5, 6), ["alto", "tenor"], seed=trial, model=model)
        old = region_notes(piece)
        shares.append(1 - len(old & region_notes(new)) / max(len(old), 1))
    shares = np.array(shares)
    print("| tries | notes rewritten, mean | median | least | tries that changed nothing |")
    print("|---|---|---|---|---|")
    print(
        f"| {args.tries} | {shares.mean():.2f} | {np.median(shares):.2f} | {shares.min():.2f} "
        f"| {int((shares == 0).sum())} |"
    )


if __name__ == "__main__":
    main()

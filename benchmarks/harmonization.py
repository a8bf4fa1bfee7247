"""How the part-writing term of `bachgan harmonize` changes its harmonizations: the numbers
behind the harmonization paragraphs of docs/ABLATIONS.md.

For each --rule-weights value, harmonizes the sopranos of the first 12 held-out 4/4 chorales
(as benchmarks/quality.py does) and evaluates them against the held-out chorales, beside the
share of steps on which the generator's own soprano matched the melody.

    python benchmarks/harmonization.py [--model PATH] [--rule-weights 0 0.3 1]

Needs runs/heldout.npz (`bachgan prepare bach --split heldout --out runs/heldout.npz`).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _baseline import load_musegan

from bachgan.evaluation.evaluate import evaluate
from bachgan.generation.harmonize import RULE_WEIGHT, harmonize_with_fit
from bachgan.io.corpus import load_rolls

MELODIES = 12
WHOLE = ("classifier_accuracy", "frechet_distance")
METRICS = (
    "parallel_per_bar",
    "voice_crossing_rate",
    "large_leap_rate",
    "in_key_ratio",
    "pitch_classes_per_bar",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a musegan checkpoint (default: the shipped baseline)")
    parser.add_argument("--rule-weights", type=float, nargs="+", default=[0.0, RULE_WEIGHT])
    args = parser.parse_args()
    heldout, _ = load_rolls("runs/heldout.npz")
    melodies = [m for m in heldout if m.steps_per_bar == 16][:MELODIES]
    model = load_musegan(args.model)
    shown = WHOLE + METRICS
    print("| rule weight | soprano fit | " + " | ".join(shown) + " | seconds |")
    print("|---|---|" + "---|" * len(shown) + "---|")
    for weight in args.rule_weights:
        started = time.perf_counter()
        results = [harmonize_with_fit(m, model, rule_weight=weight) for m in melodies]
        seconds = time.perf_counter() - started
        row = evaluate([r.roll for r in results], heldout, judges=()).numbers
        fit = np.mean([r.soprano_fit for r in results])
        values = [row[n] for n in WHOLE] + [row["metrics"][n]["generated"] for n in METRICS]
        cells = " | ".join(f"{v:.3f}" for v in values)
        print(f"| {weight:g} | {fit:.3f} | {cells} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()

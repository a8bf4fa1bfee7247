"""How the part-writing term of `bachgan harmonize` changes its harmonizations: the numbers
behind the harmonization paragraphs of docs/ABLATIONS.md.

For each --rule-weights value, harmonizes the sopranos of the first --melodies held-out 4/4
chorales (12, as benchmarks/quality.py does) after --steps steps of latent optimisation (150,
as in `bachgan harmonize`), and evaluates them against the held-out chorales, beside the share
of steps on which the generator's own soprano matched the melody.

    python benchmarks/harmonization.py [--model PATH] [--rule-weights 0 0.3 1] [--melodies 12]
        [--steps 150] [--data PATH]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import (
    add_data_option,
    add_model_option,
    load_musegan,
    print_header,
    print_row,
    reference_rolls,
    timed,
)

from bachgan.evaluation.evaluate import evaluate
from bachgan.generation.backend import LoadedModel
from bachgan.generation.harmonize import RULE_WEIGHT, Harmonization, harmonize_with_fit
from bachgan.roll import Roll

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
    add_model_option(parser, "musegan")
    parser.add_argument("--rule-weights", type=float, nargs="+", default=[0.0, RULE_WEIGHT])
    parser.add_argument("--melodies", type=int, default=12, help="held-out sopranos to harmonize")
    parser.add_argument("--steps", type=int, default=150, help="latent optimisation steps")
    add_data_option(parser)
    args = parser.parse_args()
    heldout, _ = reference_rolls("heldout", args.data)
    melodies = [m for m in heldout if m.steps_per_bar == 16][: args.melodies]
    model = load_musegan(args.model)
    print_header("rule weight", "soprano fit", *WHOLE, *METRICS, "seconds")
    for weight in args.rule_weights:
        results, seconds = timed(harmonize_all, melodies, model, weight, args.steps)
        row = evaluate([r.roll for r in results], heldout, judges=()).numbers
        fit = np.mean([r.soprano_fit for r in results])
        values = [row[n] for n in WHOLE] + [row["metrics"][n]["generated"] for n in METRICS]
        print_row(f"{weight:g}", f"{fit:.3f}", *(f"{v:.3f}" for v in values), f"{seconds:.0f}")


def harmonize_all(
    melodies: list[Roll], model: LoadedModel, weight: float, steps: int
) -> list[Harmonization]:
    """Each melody harmonized with the part-writing term at ``weight``, after ``steps`` steps of
    latent optimisation."""
    return [harmonize_with_fit(m, model, steps=steps, rule_weight=weight) for m in melodies]


if __name__ == "__main__":
    main()

"""How a completion model's revision rounds and polish trade time for harmony: the numbers
behind the default `Revisions` (docs/ABLATIONS.md).

Each setting is comma-separated key=value changes to the default `Revisions`: rounds=N,
temperature=T, eighths=0, polish=0 (no final polish), bass=C (the polish's cost of a bass
leap, in nats), restrike=L (the onset logit above which a held pitch is struck again). For
each, composes --pieces pieces of 4 bars and times one 16-bar piece (median of 5), then
measures the harmony numbers and the tree judge against 120 training chorales (the held-out
chorales are kept for the final table).

    python benchmarks/revisions.py [--model PATH] [--settings rounds=0 rounds=16 rounds=16,bass=1]
        [--pieces 200] [--data PATH]
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

import numpy as np
import torch
from common import (
    add_data_option,
    add_model_option,
    load_completion,
    print_header,
    print_row,
    reference_rolls,
    timed,
)

from bachgan.evaluation.evaluate import evaluate
from bachgan.generation.backend import LoadedModel
from bachgan.generation.completion import POLISH_RULES, Revisions
from bachgan.generation.compose import generate

REFERENCE_PIECES = 120
HARMONY = (
    "complete sonorities (share of eighths)",
    "dissonant sonorities on beats 1 and 3",
    "held chords per window",
    "bass moves by step",
    "oscillations per window",
    "tritone leaps per window",
    "bass leaps of 8-12 semitones",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_option(parser, "completion")
    parser.add_argument("--settings", nargs="+", default=["rounds=0", "rounds=16"])
    parser.add_argument("--pieces", type=int, default=200)
    add_data_option(parser)
    args = parser.parse_args()
    training, _ = reference_rolls("train", args.data)
    chosen = np.random.default_rng(0).permutation(len(training))[:REFERENCE_PIECES]
    reference = [training[i] for i in chosen]
    loaded = load_completion(args.model)
    print_header("setting", "s per 16 bars", "tree judge", *HARMONY, "parallels/bar")
    for setting in args.settings:
        revisions = revisions_of(setting)
        seconds = statistics.median(sixteen_bar_seconds(loaded, revisions, s) for s in range(5))
        pieces = generate(args.pieces, 4, 1, loaded, revisions=revisions, final_chord=False)
        numbers = evaluate(pieces, reference, judges=("tree",)).numbers
        tree = numbers["judges"]["tree"]["generated"]["mean"]
        harmony = [numbers["harmony"][name]["generated"] for name in HARMONY]
        parallels = numbers["metrics"]["parallel_per_bar"]["generated"]
        print_row(
            setting,
            f"{seconds:.3f}",
            f"{tree:.3f}",
            *(f"{value:.3f}" for value in harmony),
            f"{parallels:.3f}",
        )


def revisions_of(setting: str) -> Revisions:
    """``"rounds=16,bass=1"`` -> the default :class:`Revisions` with those changes."""
    revisions = Revisions()
    for change in setting.split(","):
        key, _, value = change.partition("=")
        if key == "bass":
            polish = replace(revisions.polish or POLISH_RULES, bass_leap_cost=float(value))
            revisions = replace(revisions, polish=polish)
        elif key == "polish":
            revisions = replace(revisions, polish=POLISH_RULES if int(value) else None)
        elif key == "eighths":
            revisions = replace(revisions, eighths=bool(int(value)))
        else:
            revisions = replace(revisions, **{key: type(getattr(revisions, key))(value)})
    return revisions


def sixteen_bar_seconds(loaded: LoadedModel, revisions: Revisions, seed: int) -> float:
    """Seconds to compose one 16-bar piece with ``revisions``."""
    return timed(generate, 1, 16, seed, loaded, revisions=revisions)[1]


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()

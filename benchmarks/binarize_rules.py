"""How the voice-leading decoding's costs change free generation: the numbers behind the
choice of `DecodingRules` in docs/ABLATIONS.md (rows 32-33).

Samples --pieces pieces of 4 bars once, decodes them by argmax and with the voice-leading
decoding at each --costs value (nats per parallel, leap over an octave and, unless
--crossing-cost sets it apart, crossing), and evaluates each against 120 training chorales
(the held-out chorales are kept for the final table), with the decoding's time.

    python benchmarks/binarize_rules.py [--model PATH] [--costs 1 3 10] [--crossing-cost 0]
        [--bars 4] [--pieces 200] [--data PATH]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
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
from bachgan.generation.binarize import DecodingRules, decode_output
from bachgan.models.musegan import Noise

REFERENCE_PIECES = 120
METRICS = (
    "parallel_per_bar",
    "voice_crossing_rate",
    "in_key_ratio",
    "pitch_classes_per_bar",
    "qualified_note_rate",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_option(parser, "musegan")
    parser.add_argument("--costs", type=float, nargs="+", default=[1.0, 3.0, 10.0])
    parser.add_argument("--crossing-cost", type=float, help="nats per crossing (default: --costs)")
    parser.add_argument("--bars", type=int, default=4)
    parser.add_argument("--pieces", type=int, default=200)
    add_data_option(parser)
    args = parser.parse_args()
    training, _ = reference_rolls("train", args.data)
    chosen = np.random.default_rng(0).permutation(len(training))[:REFERENCE_PIECES]
    reference = [training[i] for i in chosen]
    loaded = load_musegan(args.model)
    noise = Noise.sample(
        loaded.config, args.pieces, args.bars, generator=torch.Generator().manual_seed(5)
    )
    with torch.no_grad():
        output = loaded.generator(noise)
    print_header("decoding", "seconds", "classifier", "Fréchet", *METRICS)
    settings = [("argmax", None)] + [
        ("voice-leading", DecodingRules(cost, cost, _or(args.crossing_cost, cost)))
        for cost in args.costs
    ]
    for mode, rules in settings:
        extra = {"rules": rules} if rules else {}
        rolls, seconds = timed(decode_output, output, loaded.encoding, mode, **extra)
        result = evaluate(rolls, reference, judges=()).numbers
        label = mode if rules is None else f"{mode}, cost {rules.parallel_cost:g}"
        if rules is not None and rules.crossing_cost != rules.parallel_cost:
            label += f", crossing {rules.crossing_cost:g}"
        print_row(
            label,
            f"{seconds:.1f}",
            f"{result['classifier_accuracy']:.3f}",
            f"{result['frechet_distance']:.2f}",
            *(f"{result['metrics'][m]['generated']:.3f}" for m in METRICS),
        )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


if __name__ == "__main__":
    main()

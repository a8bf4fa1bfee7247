"""The model in each meter it knows, by one protocol: 200 composed pieces of 4 bars (raw, no
held final chord) against every Bach chorale in that meter (training and held-out split: the
3/4 chorales are too few to hold some out), in 4-bar windows, with the judges' floor taken
as one half of Bach's pieces against the other; and 100 pieces of 8 bars as `bachgan
generate` writes them, for the endings.

    python benchmarks/meters.py [--model PATH] [--pieces 200] [--judges all|fast] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from common import add_data_option, add_model_option, print_header, print_row, reference_rolls

from bachgan.evaluation.evaluate import JUDGE_SETS, evaluate, piece_groups
from bachgan.generation.compose import generate
from bachgan.generation.loading import load_model

ROWS = (
    ("harmony", "complete sonorities (share of eighths)"),
    ("harmony", "dissonant sonorities on beats 1 and 3"),
    ("harmony", "held chords per window"),
    ("harmony", "bass moves by step"),
    ("harmony", "oscillations per window"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_option(parser)
    parser.add_argument("--pieces", type=int, default=200)
    parser.add_argument("--judges", choices=tuple(JUDGE_SETS), default="all")
    parser.add_argument("--out", default="meters.json", help="all numbers as JSON")
    add_data_option(parser)
    args = parser.parse_args()
    bach, names = reference_rolls("all", args.data)
    model = load_model(args.model)
    results = {}
    for beats in sorted(model.meters, reverse=True):
        meter = (beats, 4)
        chosen = [k for k, roll in enumerate(bach) if roll.time_signature == meter]
        reference = [bach[k] for k in chosen]
        groups = piece_groups([names[k] for k in chosen])
        raw = generate(args.pieces, 4, 1, model, final_chord=False, meter=meter)
        written = generate(args.pieces // 2, 8, 3, model, meter=meter)
        judged = evaluate(
            raw, reference, judges=JUDGE_SETS[args.judges], reference_groups=groups, meter=meter
        ).numbers
        ended = evaluate(written, reference, judges=(), meter=meter).numbers
        results[f"{beats}/4"] = {"pieces": len(reference), "raw": judged, "written": ended}
        Path(args.out).write_text(json.dumps(results, indent=2))
        print(f"{beats}/4 done", flush=True)
    print_table(results)


def print_table(results: dict) -> None:
    """Bach and the model side by side, meter by meter."""
    meters = list(results)
    print_header("metric", *(f"{side} {m}" for m in meters for side in ("Bach", "model")))
    # Each cell below holds one meter's two columns.
    print_row(
        "pieces / 4-bar windows",
        *(
            f"{results[m]['pieces']} pieces | {results[m]['raw']['windows']['generated']}"
            for m in meters
        ),
    )
    for section, metric in ROWS:
        values = [results[m]["raw"][section][metric] for m in meters]
        print_row(metric, *(f"{v['reference']:.3f} | {v['generated']:.3f}" for v in values))
    for metric in ("root-position tonic triad", "bass falls a fifth"):
        values = [results[m]["written"]["cadences"][metric] for m in meters]
        print_row(
            f"pieces ending: {metric} (8 bars as written)",
            *(f"{v['reference']:.2f} | {v['generated']:.2f}" for v in values),
        )
    for judge in results[meters[0]]["raw"]["judges"]:
        verdicts = [results[m]["raw"]["judges"][judge] for m in meters]
        print_row(
            f"{judge} judge: accuracy",
            *(
                f"{v['bach vs bach']['mean']:.3f} (floor) | {v['generated']['mean']:.3f}"
                for v in verdicts
            ),
        )


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()

"""Benchmark: what a user waits for with a completion model on this CPU: composing a 16-bar
chorale (one pass and the default revisions; in 4/4 and, with a model that knows it, 3/4),
harmonizing a 16-bar melody, regenerating two bars of a 16-bar piece, and writing the
piece's MusicXML. Median of --repeats calls each, in
one process with torch on 2 threads.

    python benchmarks/compose_speed.py [--model PATH] [--repeats 10]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from pathlib import Path

import torch
from common import add_model_option, call_seconds, load_completion, print_header, print_row

from bachgan.generation.completion import NO_REVISIONS
from bachgan.generation.compose import generate
from bachgan.generation.harmonize import harmonize
from bachgan.generation.regenerate import regenerate
from bachgan.io.melodies import example_melody
from bachgan.io.musicxml_writer import write_musicxml
from bachgan.roll import Roll


def sixteen_bars(melody: Roll) -> Roll:
    """The melody repeated until it is 16 bars long."""
    steps = 16 * melody.steps_per_bar
    copies = -(-steps // melody.n_steps)
    sounding = melody.sounding.repeat(copies, axis=1)[:, :steps]
    onsets = melody.onsets.repeat(copies, axis=1)[:, :steps]
    return melody.with_arrays(sounding, onsets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_option(parser, "completion")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    model = load_completion(args.model)
    melody = sixteen_bars(example_melody("Ode to Joy (Beethoven)"))
    (piece,) = generate(1, 16, seed=1, model=model)
    folder = Path(tempfile.mkdtemp())
    rows = {
        "compose 16 bars, one pass": lambda: generate(1, 16, 1, model, revisions=NO_REVISIONS),
        "compose 16 bars, default revisions": lambda: generate(1, 16, 1, model),
        "harmonize a 16-bar melody": lambda: harmonize(melody, model),
        "regenerate bars 5-6 of 16": lambda: regenerate(piece, (5, 6), model=model),
        "write the 16-bar piece's MusicXML": lambda: write_musicxml(piece, folder / "a.xml"),
    }
    if 3 in model.meters:
        rows["compose 16 bars of 3/4, default revisions"] = lambda: generate(
            1, 16, 1, model, meter="3/4"
        )
        seeds = itertools.count()  # a new piece each call: how often it is composed again varies
        rows["compose 16 bars of 3/4 in G major (composed again until in the key)"] = lambda: (
            generate(1, 16, next(seeds), model, meter="3/4", key="G major")
        )
    print_header("task", "median seconds")
    for name, function in rows.items():
        print_row(name, f"{statistics.median(call_seconds(function, args.repeats)):.3f}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()

"""The quality protocol of docs/RESULTS.md, reproduced by one command.

1. `bachgan prepare bach --split train` and `--split heldout` (the fixed split in the package;
   --data puts one data set on both sides instead).
2. Optionally train the chorale model for --train-minutes on the training split (the shipped
   model's preset) and time it; otherwise evaluate --model (default: the shipped model).
3. Sample --pieces (200) pieces of 4 bars and as many of 16 bars (raw model output, no held
   final chord) as `bachgan generate` does by default, as many of 8 bars exactly as it writes
   them, and the same 4-bar pieces in one pass without revisions (a completion model) or
   decoded by argmax (a musegan model); harmonize the held-out sopranos.
4. Evaluate each against the held-out chorales in 4-bar windows, beside the floor (held-out
   Bach against training Bach), a random baseline, with --seed-model the seed DCGAN and
   with --peer the MIDI files of another system (JS Fake Chorales: its midi/ folder).

    python benchmarks/quality.py [--train-minutes 20] [--model PATH] [--seed-model RUN]
        [--peer NAME=DIR] [--pieces 200] [--judges all|fast|none] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from common import (
    add_data_option,
    add_model_option,
    print_header,
    print_row,
    reference_path,
    reference_rolls,
    timed,
)

from bachgan.config import TrainConfig, preset_settings
from bachgan.encoding import CHORALE_ENCODING, decode
from bachgan.errors import BachganError
from bachgan.evaluation.evaluate import JUDGE_SETS, evaluate, piece_groups
from bachgan.generation.backend import LoadedModel
from bachgan.generation.baselines import MuseGANBackend
from bachgan.generation.completion import NO_REVISIONS
from bachgan.generation.compose import generate
from bachgan.generation.harmonize import Harmonization, harmonize_with_fit
from bachgan.generation.loading import load_model
from bachgan.io.checkpoint import load_checkpoint
from bachgan.io.corpus import load_music
from bachgan.io.images import image_to_roll
from bachgan.roll import VOICE_NAMES, Roll, split_voices
from bachgan.training.train import train


def shipped_preset(data: str, out: str, minutes: float) -> TrainConfig:
    """The settings of the shipped model: `bachgan train`'s defaults, written out in the
    `chorales` preset (docs/MODEL_CARD.md)."""
    return TrainConfig(data=data, out=out, minutes=minutes, **preset_settings("chorales"))


def random_pieces(count: int, bars: int, seed: int = 0) -> list[Roll]:
    """Uniformly random pitches inside each voice's usual range, random onsets."""
    rng = np.random.default_rng(seed)
    steps = bars * CHORALE_ENCODING.steps_per_bar
    low = CHORALE_ENCODING.lowest_pitch
    ranges = ((60, 81), (53, 74), (48, 69), (40, 64))
    pieces = []
    for _ in range(count):
        pitch = np.stack([rng.integers(a - low, b - low + 1, steps) for a, b in ranges])
        onset = rng.random((4, steps)) < 0.25
        pieces.append(decode(pitch, onset, CHORALE_ENCODING, track_names=VOICE_NAMES))
    return pieces


def seed_pieces(run: str, count: int) -> list[Roll]:
    """Samples of a seed DCGAN run, read back the article's way and split into four voices by
    pitch order."""
    from bachgan.models import SeedGenerator

    checkpoint = load_checkpoint(run)
    generator = SeedGenerator().eval()
    generator.load_state_dict(checkpoint["generator"])
    latent = torch.randn(count, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # ten at a time: one image's activations take 46 MB per layer
        images = torch.cat([generator(chunk) for chunk in latent.split(10)])
    pieces, kept, total = [], 0, 0
    # The model's range less a tritone each side, so that key normalisation keeps notes inside.
    low, high = CHORALE_ENCODING.lowest_pitch + 6, CHORALE_ENCODING.lowest_pitch + 59 - 6
    for image in images[:, 0].numpy():
        columns = ((np.arange(100) + 0.5) * 106 / 100).astype(int)
        notes = image_to_roll(image[:, columns] > 0.5).notes()
        inside = notes.select((notes.pitch >= low) & (notes.pitch <= high))
        kept, total = kept + len(inside), total + len(notes)
        if len(inside):
            voices = split_voices(inside, 4)
            pieces.append(Roll.from_notes(voices, 4, 64, pitch_range=(21, 126)))
    print(
        f"seed DCGAN: {total / count:.0f} notes per image, {kept / max(total, 1):.1%} of them "
        f"inside MIDI {low}-{high} and kept"
    )
    return pieces


def harmonizations(melodies: list[Roll], loaded) -> list[Roll]:
    """Harmonize the sopranos of the 4/4 held-out chorales (the first 12 for a musegan model,
    whose latent optimisation takes a minute or more each)."""
    chosen = [m for m in melodies if m.steps_per_bar == 16][
        : 12 if isinstance(loaded.backend, MuseGANBackend) else None
    ]
    results, seconds = timed(harmonize_each, chosen, loaded)
    seconds /= len(chosen)
    fit = np.mean([r.soprano_fit for r in results])
    print(
        f"harmonizations of {len(results)} held-out sopranos, {seconds:.2f} s each: the "
        f"generator's own soprano matched the melody on {fit:.1%} of steps"
    )
    return [r.roll for r in results]


def harmonize_each(melodies: list[Roll], loaded: LoadedModel) -> list[Harmonization]:
    """The harmonization of each melody, leaving out (and saying so) those it cannot take."""
    results: list[Harmonization] = []
    for melody in melodies:
        try:
            results.append(harmonize_with_fit(melody, loaded))
        except BachganError as error:  # a soprano that divides into two notes somewhere
            print(f"left out a held-out soprano: {error}")
    return results


def peer_column(peer: str) -> tuple[str, str]:
    """``"JS Fakes=jsf/midi"`` -> the column's name and the folder of its MIDI files."""
    name, separator, folder = peer.partition("=")
    if not separator or not name or not folder:
        raise SystemExit(f"--peer takes NAME=DIR (got {peer!r})")
    return name, folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-minutes", type=float, default=0.0)
    add_model_option(parser)
    parser.add_argument("--seed-model", help="a `bachgan train --arch seed` run to include")
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="another system's MIDI files (a folder) as a column called NAME, judged the same way",
    )
    parser.add_argument("--out", default="quality.json", help="all numbers as JSON")
    parser.add_argument(
        "--no-harmonize",
        dest="harmonize",
        action="store_false",
        help="leave out the harmonized held-out sopranos (latent optimisation, slow)",
    )
    parser.add_argument("--print", metavar="JSON", help="print the table of an earlier --out")
    parser.add_argument("--pieces", type=int, default=200, help="pieces of each kind")
    parser.add_argument(
        "--judges", choices=(*JUDGE_SETS, "none"), default="all", help="none: the numbers alone"
    )
    add_data_option(parser)
    args = parser.parse_args()
    if args.print:
        print_saved(args.print)
        return
    training, training_names = reference_rolls("train", args.data)
    heldout, heldout_names = reference_rolls("heldout", args.data)
    model = args.model
    if args.train_minutes:
        data, run = str(reference_path("train", args.data)), str(Path(tempfile.mkdtemp()) / "run")
        trained, seconds = timed(train, shipped_preset(data, run, args.train_minutes))
        model = str(trained)
        print(f"trained {seconds:.0f} s -> {model}")
    groups = piece_groups(heldout_names)
    judges, pieces = JUDGE_SETS.get(args.judges, ()), args.pieces

    def against_heldout(generated: list[Roll]):
        return evaluate(generated, heldout, training, reference_groups=groups, judges=judges)

    columns = {
        "held-out Bach vs training Bach (floor)": lambda: evaluate(
            heldout,
            training,
            training,
            reference_groups=piece_groups(training_names),
            judges=judges,
        ),
        "shipped model, 4 bars": lambda: against_heldout(
            generate(pieces, 4, 1, model, final_chord=False)
        ),
        "shipped model, 16 bars": lambda: against_heldout(
            generate(pieces, 16, 2, model, final_chord=False)
        ),
        "as `bachgan generate` writes them, 8 bars": lambda: against_heldout(
            generate(pieces, 8, 3, model)
        ),
        "random baseline": lambda: against_heldout(random_pieces(pieces, 4)),
    }
    loaded = load_model(model)
    if not isinstance(loaded.backend, MuseGANBackend):
        columns["shipped model, 4 bars, one pass"] = lambda: against_heldout(
            generate(pieces, 4, 1, loaded, final_chord=False, revisions=NO_REVISIONS)
        )
    else:
        columns["shipped model, 4 bars, argmax"] = lambda: against_heldout(
            generate(pieces, 4, 1, loaded, sampling="argmax", final_chord=False)
        )
    if args.harmonize:
        columns["harmonized held-out sopranos"] = lambda: against_heldout(
            harmonizations(heldout, loaded)
        )
    if args.seed_model:
        columns["seed DCGAN"] = lambda: against_heldout(seed_pieces(args.seed_model, pieces))
    for name, folder in map(peer_column, args.peer):
        columns[name] = lambda folder=folder: against_heldout(load_music(folder))
    numbers = {}
    for name, column in columns.items():  # saved after each column: a stop loses one
        result, seconds = timed(column)
        numbers[name] = result.numbers
        Path(args.out).write_text(json.dumps(numbers, indent=2))
        print(f"{name}: {seconds:.0f} s", flush=True)
    print_table(numbers)


def print_saved(path: str) -> None:
    """Print the table of a ``--out`` JSON file again."""
    print_table(json.loads(Path(path).read_text()))


def print_table(numbers: dict) -> None:
    """Every column's generated side, section by section; the held-out chorales and
    shuffled-voice Bach (the same in every column that is compared with them) come first."""
    names = list(numbers)
    model = numbers[names[1]]  # a column compared with the held-out chorales
    print_header("metric", "held-out Bach", "shuffled-voice Bach", *names)
    _row("windows (generated side)", ["", ""], [numbers[n]["windows"]["generated"] for n in names])
    for judge, label in (("tree", "tree judge"), ("cnn", "network judge"), ("weak", "weak judge")):
        if judge not in model.get("judges", {}):
            continue
        _row(
            f"{label}: accuracy vs held-out Bach (mean ± sd over folds)",
            [
                _verdict(model["judges"][judge]["bach vs bach"]) + " (floor)",
                _verdict(model["judges"][judge]["shuffled voices"]),
            ],
            [_verdict(numbers[n]["judges"][judge]["generated"]) for n in names],
        )
    for metric, values in model["harmony"].items():
        _row(
            metric,
            [values["reference"], values["shuffled"]],
            [numbers[n]["harmony"][metric]["generated"] for n in names],
        )
    for metric, values in model["cadences"].items():
        _row(
            f"pieces: {metric}" if metric.startswith("opens") else f"pieces ending: {metric}",
            [values["reference"], ""],
            [numbers[n]["cadences"][metric]["generated"] for n in names],
        )
    for voice in model["melodic_interval_js"]:
        _row(
            f"{voice} intervals, JS from held-out (bits)",
            ["", ""],
            [numbers[n]["melodic_interval_js"][voice] for n in names],
        )
    for metric, values in model["metrics"].items():
        _row(
            metric,
            [values["reference"], ""],
            [numbers[n]["metrics"][metric]["generated"] for n in names],
        )
    for key, label in (
        ("frechet_distance", "Fréchet distance (summary metrics)"),
        ("pitch_class_js", "pitch-class JS (bits)"),
    ):
        _row(label, ["", ""], [numbers[n][key] for n in names])
    for key, label in (
        ("generated_copied_bar_fraction", "bars found in the training data (any offset, key)"),
        ("generated_longest_copied_run", "longest copied run (bars)"),
        ("generated_longest_copied_voice_run", "longest run with a voice's line copied (bars)"),
        ("generated_nearest_window_distance", "distance to nearest training window"),
    ):
        _row(label, ["", ""], [numbers[n]["originality"][key] for n in names])


def _verdict(verdict: dict) -> str:
    return f"{verdict['mean']:.3f} ± {verdict['sd']:.3f}"


def _row(label: str, fixed: list, values: list) -> None:
    print_row(label, *(v if isinstance(v, str) else f"{v:.3g}" for v in [*fixed, *values]))


if __name__ == "__main__":
    main()

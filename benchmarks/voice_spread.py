"""How widely each voice of a model sings, and how well latent optimisation fits held-out
melodies: the numbers behind the voice-range columns of docs/ABLATIONS.md (rows 23-28).

For each voice: the distinct pitches it sings over --samples samples of 4 bars, the 5th and 95th
percentiles of its pitches, and the total variation distance between its pitch distribution
(pooled over the samples) and the training windows' (pooled the same way); the held-out
windows against the training windows give the floor. Then the share of steps on which the
generator's own soprano matched each of the first --melodies held-out 4/4 sopranos after
--steps steps of latent optimisation (150, what `bachgan harmonize` relies on).

    python benchmarks/voice_spread.py [--model PATH] [--melodies 4] [--steps 150] [--samples 200]
        [--data PATH]
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
    reference_path,
    reference_rolls,
)
from torch.nn import functional as F

from bachgan.encoding import CHORALE_ENCODING
from bachgan.generation.backend import LoadedModel
from bachgan.generation.harmonize import harmonize_with_fit
from bachgan.models import Noise, voice_pitch_distribution
from bachgan.roll import VOICE_NAMES
from bachgan.training.windows import load_windows


def model_pitch(model: LoadedModel, samples: int) -> torch.Tensor:
    """Class indices ``(samples, V, T)`` of the model's raw (argmax) output, seed 0."""
    noise = Noise.sample(model.config, samples, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model.generator(noise).pitch_logits.argmax(dim=-1)


def data_pitch(split: str, data: str | None) -> torch.Tensor:
    """Class indices ``(windows, V, T)`` of every 4-bar window of the chorales of ``split``
    (or ``data``), in C major / A minor like the model's training data."""
    path = reference_path(split, data)
    return load_windows(path, 4, True, 0, base=CHORALE_ENCODING).pitch


def distribution(pitch: torch.Tensor) -> torch.Tensor:
    """Each voice's pitch distribution pooled over all windows, ``(V, C - 1)``."""
    return voice_pitch_distribution(F.one_hot(pitch, CHORALE_ENCODING.n_classes).float())


def print_spread(title: str, pitch: torch.Tensor, reference: torch.Tensor) -> None:
    """``title`` and a table of one row per voice: distinct pitches, 5th-95th percentile and
    distance to the ``reference`` distribution."""
    distances = 0.5 * (distribution(pitch) - reference).abs().sum(dim=-1)
    print(title)
    print_header("voice", "distinct pitches", "5th-95th percentile", "distance to training")
    for voice, name in enumerate(VOICE_NAMES):
        sung = pitch[:, voice].flatten()
        sung = sung[sung != CHORALE_ENCODING.rest].numpy() + CHORALE_ENCODING.lowest_pitch
        low, high = np.percentile(sung, [5, 95]).astype(int)
        print_row(name, len(np.unique(sung)), f"{low}-{high}", f"{distances[voice]:.3f}")


def melody_fits(model: LoadedModel, count: int, steps: int, data: str | None) -> list[float]:
    """Soprano fit of ``steps`` steps of latent optimisation on the first ``count`` held-out
    4/4 melodies."""
    held_out, _ = reference_rolls("heldout", data)
    melodies = [roll for roll in held_out if roll.steps_per_bar == 16][:count]
    return [harmonize_with_fit(melody, model, steps=steps).soprano_fit for melody in melodies]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_option(parser, "musegan")
    parser.add_argument("--melodies", type=int, default=4, help="held-out melodies to fit")
    parser.add_argument("--steps", type=int, default=150, help="latent optimisation steps")
    parser.add_argument("--samples", type=int, default=200, help="samples of the model")
    add_data_option(parser)
    args = parser.parse_args()
    model = load_musegan(args.model)
    reference = distribution(data_pitch("train", args.data))
    for title, pitch in (
        (f"model, {args.samples} samples:", model_pitch(model, args.samples)),
        ("held-out windows (floor):", data_pitch("heldout", args.data)),
    ):
        print_spread(title, pitch, reference)
    if args.melodies:
        fits = melody_fits(model, args.melodies, args.steps, args.data)
        print("soprano fit on held-out melodies:", ", ".join(f"{fit:.2f}" for fit in fits))


if __name__ == "__main__":
    main()

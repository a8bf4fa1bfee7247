"""How widely each voice of a model sings, and how well latent optimisation fits held-out
melodies: the numbers behind the voice-range columns of docs/ABLATIONS.md (rows 23-28).

For each voice: the distinct pitches it sings over 200 samples of 4 bars, the 5th and 95th
percentiles of its pitches, and the total variation distance between its pitch distribution
(pooled over the samples) and the training windows' (pooled the same way); the held-out
windows against the training windows give the floor. Then the share of steps on which the
generator's own soprano matched each of the first --melodies held-out 4/4 sopranos after
latent optimisation (what `bachgan harmonize` relies on).

    python benchmarks/voice_spread.py [--model PATH] [--melodies 4]

Needs runs/train.npz and runs/heldout.npz (`bachgan prepare bach --split train|heldout`).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _baseline import load_musegan
from torch.nn import functional as F

from bachgan.encoding import CHORALE_ENCODING
from bachgan.generation.backend import LoadedModel
from bachgan.generation.harmonize import harmonize_with_fit
from bachgan.io.corpus import load_rolls
from bachgan.models import Noise, voice_pitch_distribution
from bachgan.roll import VOICE_NAMES
from bachgan.training.windows import load_windows

SAMPLES = 200


def model_pitch(model: LoadedModel, samples: int = SAMPLES) -> torch.Tensor:
    """Class indices ``(samples, V, T)`` of the model's raw (argmax) output, seed 0."""
    noise = Noise.sample(model.config, samples, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model.generator(noise).pitch_logits.argmax(dim=-1)


def data_pitch(path: str) -> torch.Tensor:
    """Class indices ``(windows, V, T)`` of every 4-bar window of a prepared data set, in
    C major / A minor like the model's training data."""
    return load_windows(path, 4, True, 0, base=CHORALE_ENCODING).pitch


def distribution(pitch: torch.Tensor) -> torch.Tensor:
    """Each voice's pitch distribution pooled over all windows, ``(V, C - 1)``."""
    return voice_pitch_distribution(F.one_hot(pitch, CHORALE_ENCODING.n_classes).float())


def spread_rows(pitch: torch.Tensor, reference: torch.Tensor) -> list[str]:
    """One table row per voice: distinct pitches, 5th-95th percentile, distance."""
    distances = 0.5 * (distribution(pitch) - reference).abs().sum(dim=-1)
    rows = []
    for voice, name in enumerate(VOICE_NAMES):
        sung = pitch[:, voice].flatten()
        sung = sung[sung != CHORALE_ENCODING.rest].numpy() + CHORALE_ENCODING.lowest_pitch
        low, high = np.percentile(sung, [5, 95]).astype(int)
        distinct = len(np.unique(sung))
        rows.append(f"| {name} | {distinct} | {low}-{high} | {distances[voice]:.3f} |")
    return rows


def melody_fits(model: LoadedModel, count: int) -> list[float]:
    """Soprano fit of latent optimisation on the first ``count`` held-out 4/4 melodies."""
    held_out, _ = load_rolls("runs/heldout.npz")
    melodies = [roll for roll in held_out if roll.steps_per_bar == 16][:count]
    return [harmonize_with_fit(melody, model).soprano_fit for melody in melodies]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a musegan checkpoint (default: the shipped baseline)")
    parser.add_argument("--melodies", type=int, default=4, help="held-out melodies to fit")
    args = parser.parse_args()
    model = load_musegan(args.model)
    reference = distribution(data_pitch("runs/train.npz"))
    header = ["| voice | distinct pitches | 5th-95th percentile | distance to training |"]
    header.append("|---|---|---|---|")
    for title, pitch in (
        (f"model, {SAMPLES} samples:", model_pitch(model)),
        ("held-out windows (floor):", data_pitch("runs/heldout.npz")),
    ):
        print("\n".join([title, *header, *spread_rows(pitch, reference)]))
    if args.melodies:
        fits = melody_fits(model, args.melodies)
        print("soprano fit on held-out melodies:", ", ".join(f"{fit:.2f}" for fit in fits))


if __name__ == "__main__":
    main()

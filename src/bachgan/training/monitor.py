"""What a training run reports about its samples: music metrics against the training
windows, the harmony metrics, piano-roll pictures and audio, in TensorBoard."""

from __future__ import annotations

import re

import numpy as np
import torch

from ..evaluation.harmony_profile import harmony_profile
from ..evaluation.metrics import FEATURES, classifier_accuracy, frechet_distance, piece_features
from ..io.audio import SAMPLE_RATE, render_audio
from ..io.pictures import roll_rgb
from ..roll import Roll

__all__ = ["score_samples"]


def score_samples(rolls: list[Roll], reference: np.ndarray, writer=None, step: int = 0) -> float:
    """The two-sample classifier's accuracy of ``rolls`` against ``reference`` feature rows
    (lower is closer to the data; 0.5 is the floor); with a TensorBoard ``writer``, also log
    the summary metrics, the Fréchet distance, the harmony metrics, four piano rolls and the
    first sample's audio at ``step``."""
    generated = np.array([piece_features(roll) for roll in rolls])
    accuracy = classifier_accuracy(reference, generated)
    if writer is None:
        return accuracy
    scale = reference.std(axis=0) + 1e-6
    for name, value in zip(FEATURES, generated.mean(axis=0), strict=True):
        writer.add_scalar(f"music/{name}", value, step)
    distance = frechet_distance(reference / scale, generated / scale)
    writer.add_scalar("music/frechet_distance", distance, step)
    writer.add_scalar("music/classifier_accuracy", accuracy, step)
    for name, value in harmony_profile(rolls).items():
        writer.add_scalar("harmony/" + re.sub(r"\W+", "_", name).strip("_"), value, step)
    for index, roll in enumerate(rolls[:4]):
        writer.add_image(f"samples/{index}", roll_rgb(roll), step)
    audio = render_audio(rolls[0]).mean(axis=1)
    writer.add_audio("samples/0", torch.from_numpy(audio)[None], step, SAMPLE_RATE)
    return accuracy

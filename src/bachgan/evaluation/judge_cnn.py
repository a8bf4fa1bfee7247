"""The convolutional judge of :mod:`bachgan.evaluation.judges`: a small network over key-normalised
piano-roll windows that learns to tell two sets apart.

Each window enters as every voice's pitch (one channel per voice and pitch of
:data:`~bachgan.encoding.CHORALE_ENCODING`) and onsets, over time; convolutions over time see
all voices and pitches at once, so chords and voice leading are in view from the first layer.
Training transposes each window by up to three semitones at random, so that the judge hears
intervals rather than memorising pitches.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..encoding import CHORALE_ENCODING, encode
from ..roll import Roll

__all__ = ["JudgeNetwork", "fit_predict", "piano_roll_codes"]

_TRANSPOSE = 3
_EPOCHS = 40
_BATCH = 32


def piano_roll_codes(windows: list[Roll]) -> np.ndarray:
    """``(n, 2, voices, steps)`` int arrays: each voice's pitch code (rest last) and onsets."""
    encoded = [encode(w, CHORALE_ENCODING, normalize_key=False) for w in windows]
    return np.stack([np.stack([p, o.astype(np.int64)]) for p, o in encoded])


class JudgeNetwork(nn.Module):
    """Logit that a window belongs to the first set."""

    def __init__(self, n_voices: int = 4, n_pitches: int = CHORALE_ENCODING.n_pitches) -> None:
        super().__init__()
        self.n_pitches = n_pitches
        channels = n_voices * (n_pitches + 1)
        self.layers = nn.Sequential(
            nn.Conv1d(channels, 64, 3, padding=1),
            nn.GELU(),
            nn.Conv1d(64, 64, 4, stride=2, padding=1),
            nn.GELU(),
            nn.Conv1d(64, 64, 4, stride=2, padding=1),
            nn.GELU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, 1))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """``codes (batch, 2, voices, steps)`` -> logits ``(batch,)``."""
        pitch, onset = codes[:, 0], codes[:, 1].float()
        rest = pitch == self.n_pitches
        one_hot = F.one_hot(pitch.clamp(max=self.n_pitches - 1), self.n_pitches).float()
        one_hot = one_hot * (~rest).unsqueeze(-1)  # (batch, voices, steps, pitches)
        features = torch.cat([one_hot, onset.unsqueeze(-1)], dim=-1)
        features = features.permute(0, 1, 3, 2).flatten(1, 2)  # (batch, channels, steps)
        hidden = self.layers(features)
        pooled = torch.cat([hidden.mean(dim=2), hidden.amax(dim=2)], dim=1)
        return self.head(pooled).squeeze(1)


def _transposed(codes: torch.Tensor, generator: torch.Generator, n_pitches: int) -> torch.Tensor:
    shift = torch.randint(-_TRANSPOSE, _TRANSPOSE + 1, (len(codes), 1, 1), generator=generator)
    pitch = codes[:, 0]
    rest = pitch == n_pitches
    moved = torch.where(rest, pitch, (pitch + shift).clamp(0, n_pitches - 1))
    return torch.stack([moved, codes[:, 1]], dim=1)


def fit_predict(
    codes: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Train a :class:`JudgeNetwork` on ``codes[train]`` and predict 0/1 for ``codes[test]``."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    network = JudgeNetwork(codes.shape[2])
    optimiser = torch.optim.AdamW(network.parameters(), lr=2e-3, weight_decay=1e-2)
    inputs = torch.from_numpy(codes[train])
    targets = torch.from_numpy(labels[train]).float()
    network.train()
    for _ in range(_EPOCHS):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            logits = network(_transposed(inputs[batch], generator, network.n_pitches))
            loss = F.binary_cross_entropy_with_logits(logits, targets[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    network.eval()
    with torch.no_grad():
        return (network(torch.from_numpy(codes[test])) > 0).numpy().astype(float)

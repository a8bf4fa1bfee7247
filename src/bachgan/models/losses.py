"""The generator's terms beside the critic: each measures, on a generated batch as the critic
sees it, how far it strays from what the training windows show, and carries its weight.

The trainer sums ``adversarial + weight * term`` over :func:`generator_terms` in their order.
Targets are computed once from the training windows, which are given (no file I/O here); a
term whose weight is 0 is not built and counts 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .musegan import (
    MuseGANConfig,
    TextureStatistics,
    VoiceLeadingFaults,
    bar_pitch_class_pairs,
    voice_pitch_distribution,
)

__all__ = [
    "PitchClassPairsTerm",
    "PitchDistributionTerm",
    "TextureTerm",
    "TrainingWindows",
    "VoiceLeadingTerm",
    "WeightedTerm",
    "generator_terms",
]


@dataclass(frozen=True)
class TrainingWindows:
    """The training data as targets see it: pitch codes and onsets ``(N, V, T)``, and how
    the trainer transposes a batch of codes (``augment(pitch, generator)``), with how many
    transposed copies a target pools over."""

    pitch: torch.Tensor
    onset: torch.Tensor
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
    copies: int = 1
    seed: int = 0

    def one_hot_batches(self, n_classes: int, size: int = 256):
        """Every window, transposed as in training, as one-hot batches (``copies`` times)."""
        rng = torch.Generator().manual_seed(self.seed)
        for _ in range(self.copies):
            for pitch in self.pitch.split(size):
                yield F.one_hot(self.augment(pitch, rng), n_classes).float()


class VoiceLeadingTerm(nn.Module):
    """Parallel fifths/octaves and leaps over an octave (and crossings, if counted) per bar."""

    name = "faults"

    def __init__(self, config: MuseGANConfig, crossings: bool) -> None:
        super().__init__()
        self.faults = VoiceLeadingFaults(config, crossings=crossings)

    def forward(self, pitch, onset, real_pitch, real_onset) -> torch.Tensor:
        return self.faults(pitch).mean()


class TextureTerm(nn.Module):
    """Distance of the generated batch's texture statistics from a real batch's, in the
    data's standard deviations: squared within one, linear beyond (Huber), so that an
    untrained generator far from the data is not crushed by it. The batch means are
    compared."""

    name = "texture"

    def __init__(self, config: MuseGANConfig, crossings: bool, data: TrainingWindows) -> None:
        super().__init__()
        self.statistics = TextureStatistics(config, crossings=crossings)
        with torch.no_grad():
            every = torch.cat(
                [
                    self.statistics(F.one_hot(pitch, config.n_classes).float(), onset)
                    for pitch, onset in zip(
                        data.pitch.split(256), data.onset.split(256), strict=True
                    )
                ]
            )
        self.register_buffer("scale", every.std(dim=0) + 1e-6)

    def forward(self, pitch, onset, real_pitch, real_onset) -> torch.Tensor:
        generated = self.statistics(pitch, onset) / self.scale
        with torch.no_grad():
            real = self.statistics(real_pitch, real_onset) / self.scale
        return F.smooth_l1_loss(generated.mean(dim=0), real.mean(dim=0), reduction="sum")


class PitchDistributionTerm(nn.Module):
    """Total variation distance between each voice's pitch distribution over the generated
    batch and over every training window, summed over voices (0 to ``V``): it grows when the
    batch's windows all keep to the same few pitches. A whole-data target, unlike one real
    batch, does not move from step to step."""

    name = "pitches"

    def __init__(self, config: MuseGANConfig, data: TrainingWindows) -> None:
        super().__init__()
        counts = torch.zeros(config.n_voices, config.n_classes - 1)
        with torch.no_grad():
            for one_hot in data.one_hot_batches(config.n_classes):
                counts += one_hot[..., :-1].sum(dim=(0, 2))
        self.register_buffer("target", counts / counts.sum(dim=-1, keepdim=True).clamp(min=1))

    def forward(self, pitch, onset, real_pitch, real_onset) -> torch.Tensor:
        return 0.5 * (voice_pitch_distribution(pitch) - self.target).abs().sum()


class PitchClassPairsTerm(nn.Module):
    """Half the summed absolute difference between how often each two pitch classes share
    a bar in the generated batch and in every training window (the diagonal: how often each
    sounds in a bar)."""

    name = "pairs"

    def __init__(self, config: MuseGANConfig, data: TrainingWindows) -> None:
        super().__init__()
        self.config = config
        total = torch.zeros(12, 12)
        with torch.no_grad():
            for one_hot in data.one_hot_batches(config.n_classes):
                total += bar_pitch_class_pairs(one_hot, config) * len(one_hot)
        self.register_buffer("target", total / (data.copies * len(data.pitch)))

    def forward(self, pitch, onset, real_pitch, real_onset) -> torch.Tensor:
        generated = bar_pitch_class_pairs(pitch, self.config)
        return 0.5 * (generated - self.target).abs().sum()


class _Nothing(nn.Module):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def forward(self, pitch, *_) -> torch.Tensor:
        return torch.zeros((), device=pitch.device)


@dataclass(frozen=True)
class WeightedTerm:
    """A term of the generator's loss and its weight."""

    term: nn.Module
    weight: float

    @property
    def name(self) -> str:
        return self.term.name


def generator_terms(
    config: MuseGANConfig,
    data: TrainingWindows,
    voice_leading_weight: float,
    texture_weight: float,
    pitch_distribution_weight: float,
    pitch_class_pairs_weight: float,
    count_crossings: bool,
) -> list[WeightedTerm]:
    """The terms in the order they are summed. Crossings count as faults with
    ``count_crossings``; otherwise the texture term matches the data's crossing rate."""
    builders: list[tuple[float, str, Callable[[], nn.Module]]] = [
        (voice_leading_weight, "faults", lambda: VoiceLeadingTerm(config, count_crossings)),
        (texture_weight, "texture", lambda: TextureTerm(config, not count_crossings, data)),
        (pitch_distribution_weight, "pitches", lambda: PitchDistributionTerm(config, data)),
        (pitch_class_pairs_weight, "pairs", lambda: PitchClassPairsTerm(config, data)),
    ]
    return [
        WeightedTerm(build() if weight else _Nothing(name), weight)
        for weight, name, build in builders
    ]

"""The "BachGAN" article's DCGAN, ported layer for layer from its Keras code.

Keras ``Dense`` layers applied to a 4-D tensor act on the channel axis; here they are 1x1
convolutions, which have the same parameters. Keras ``padding='same'`` is reproduced with
explicit padding. Images are ``(B, 1, 106, 106)`` in [0, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["SeedConfig", "SeedDiscriminator", "SeedGenerator"]


@dataclass(frozen=True)
class SeedConfig:
    """The article's sizes."""

    latent: int = 100
    image_size: int = 106

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SeedConfig:
        return cls(**data)


class SeedGenerator(nn.Module):
    """latent 100 -> Dense(128*53*53) -> LeakyReLU -> Reshape -> Dense(1024) ->
    Conv2DTranspose(1024, 4x4, stride 2) -> Dense(1024) -> LeakyReLU -> Dense(1024) ->
    Conv2D(1, 7x7, sigmoid)."""

    def __init__(self, config: SeedConfig | None = None) -> None:
        super().__init__()
        self.config = config or SeedConfig()
        self.half = self.config.image_size // 2
        self.dense = nn.Linear(self.config.latent, 128 * self.half * self.half)
        self.body = nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.Conv2d(128, 1024, 1),
            nn.ConvTranspose2d(1024, 1024, 4, stride=2, padding=1),
            nn.Conv2d(1024, 1024, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(1024, 1024, 1),
            nn.Conv2d(1024, 1, 7, padding=3),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, 100)`` -> ``(B, 1, 106, 106)``."""
        return self.body(self.dense(z).view(-1, 128, self.half, self.half))


class SeedDiscriminator(nn.Module):
    """Conv2D(64, 3x3, s2) -> LeakyReLU -> Dropout(0.5), twice -> Flatten -> BatchNorm ->
    Dense(1, sigmoid)."""

    def __init__(self, config: SeedConfig | None = None) -> None:
        super().__init__()
        self.config = config or SeedConfig()
        side = _halved(_halved(self.config.image_size))  # two stride-2 'same' convolutions
        self.body = nn.Sequential(
            nn.Conv2d(1, 64, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.5),
            nn.Conv2d(64, 64, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.5),
            nn.Flatten(),
            nn.BatchNorm1d(64 * side * side),
            nn.Linear(64 * side * side, 1),
            nn.Sigmoid(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 106, 106)`` -> probability of "real", ``(B,)``."""
        return self.body(images).squeeze(1)


def _halved(size: int) -> int:
    """Output size of a stride-2 convolution with Keras' ``padding='same'``."""
    return (size + 1) // 2

"""The GAN models: the conditional completion model (shipped), and as baselines the
unconditional MuseGAN-class model and the seed article's DCGAN."""

from .musegan import (
    Critic,
    MuseGANConfig,
    MuseGANGenerator,
    Noise,
    TextureStatistics,
    VoiceLeadingFaults,
    bar_pitch_class_pairs,
    voice_pitch_distribution,
)
from .seed import SeedConfig, SeedDiscriminator, SeedGenerator

__all__ = [
    "Critic",
    "MuseGANConfig",
    "MuseGANGenerator",
    "Noise",
    "SeedConfig",
    "SeedDiscriminator",
    "SeedGenerator",
    "TextureStatistics",
    "VoiceLeadingFaults",
    "bar_pitch_class_pairs",
    "voice_pitch_distribution",
]

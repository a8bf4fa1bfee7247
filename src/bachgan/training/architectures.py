"""The trainer of each architecture a run can name (``TrainConfig.arch``)."""

from __future__ import annotations

import torch

from ..config import TrainConfig
from .sequential_trainer import SequentialTrainer
from .trainers import CompletionTrainer, MuseGANTrainer, SeedTrainer, Trainer

__all__ = ["ARCHITECTURES", "make_trainer"]

ARCHITECTURES = {
    "completion": CompletionTrainer,
    "sequential": SequentialTrainer,
    "musegan": MuseGANTrainer,
    "seed": SeedTrainer,
}


def make_trainer(config: TrainConfig, device: torch.device) -> Trainer:
    """The trainer for ``config.arch``."""
    return ARCHITECTURES[config.arch](config, device)

"""The model that the musegan benchmarks measure: the unconditional baseline shipped with
bachgan unless --model names another musegan checkpoint (the shipped completion model has no
latent noise, decoding rules or rule weight to vary)."""

from __future__ import annotations

import sys

from bachgan.generation.backend import LoadedModel
from bachgan.generation.baselines import MuseGANBackend
from bachgan.generation.loading import load_model, pretrained_path


def load_musegan(path: str | None) -> LoadedModel:
    """The musegan model at ``path`` (default: the shipped baseline); exits with a one-line
    message for a model of another kind."""
    loaded = load_model(path or pretrained_path("musegan"))
    if not isinstance(loaded.backend, MuseGANBackend):
        sys.exit(f"{loaded.source} is a completion model; this benchmark measures a musegan one")
    return loaded

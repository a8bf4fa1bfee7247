"""Loading a trained chorale model once, with the backend of its architecture, and running
its work on a given number of cores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import torch

from ..config import recorded_settings
from ..encoding import Encoding
from ..errors import BachganError
from ..io.checkpoint import load_checkpoint
from ..models.conditional import CompletionConfig, CompletionGenerator, completion_critic
from ..models.musegan import Critic, MuseGANConfig, MuseGANGenerator
from ..models.sequential import SequentialConfig, SequentialGenerator
from .backend import LoadedModel
from .baselines import MuseGANBackend
from .binarize import DEFAULT_RULES, DecodingRules
from .completion_backend import CompletionBackend
from .sequential_backend import SequentialBackend

__all__ = [
    "CHORALE_ARCHITECTURES",
    "compute_threads",
    "decoding_rules",
    "load_model",
    "model_from_checkpoint",
    "model_path",
    "pretrained_names",
    "pretrained_path",
]

#: The chorale models by ``arch``: their sizes, generator, critic and backend.
CHORALE_ARCHITECTURES = {
    "completion": (CompletionConfig, CompletionGenerator, completion_critic, CompletionBackend),
    "sequential": (SequentialConfig, SequentialGenerator, completion_critic, SequentialBackend),
    "musegan": (MuseGANConfig, MuseGANGenerator, Critic, MuseGANBackend),
}


#: What ``--model`` calls the default model besides its name.
SHIPPED = "shipped"


def load_model(path: str | os.PathLike | None = None, device: str = "cpu") -> LoadedModel:
    """Load the generator of a chorale model's checkpoint (a .pt file or a run folder, or
    the name of a model shipped with the package, :func:`pretrained_names`, where no such
    file exists); without a path or with :data:`SHIPPED`, the shipped chorale model."""
    path = model_path(path)
    return model_from_checkpoint(load_checkpoint(path, device), str(path), device)


def model_path(path: str | os.PathLike | None) -> Path:
    """The file :func:`load_model` reads for ``path`` (a path, a shipped model's name or
    ``None``)."""
    if path is None or str(path) == SHIPPED:
        return pretrained_path()
    if str(path) in pretrained_names() and not Path(path).exists():
        return pretrained_path(str(path))
    return Path(path)


def model_from_checkpoint(checkpoint: dict, source: str, device: str = "cpu") -> LoadedModel:
    """The chorale generator held by a loaded ``completion`` or ``musegan`` checkpoint that
    came from ``source``; a checkpoint that does not make a working model is a
    :class:`BachganError`."""
    if checkpoint.get("arch") not in CHORALE_ARCHITECTURES:
        raise BachganError(
            f"{source} holds a {checkpoint.get('arch')!r} model, not a chorale model "
            f"({' or '.join(CHORALE_ARCHITECTURES)})"
        )
    try:
        loaded = _build_model(checkpoint, source, device)
        loaded.backend.check(loaded)
    except Exception as error:  # a crafted or foreign file can break the model anywhere
        raise BachganError(
            f"{source} is not a compatible bachgan model ({type(error).__name__}: {error})"
        ) from error
    return loaded


def _build_model(checkpoint: dict, source: str, device: str) -> LoadedModel:
    parts = CHORALE_ARCHITECTURES[checkpoint["arch"]]
    config_class, generator_class, critic_class, backend_class = parts
    config = config_class.from_dict(checkpoint["model_config"])
    generator = generator_class(config)
    generator.load_state_dict(checkpoint["ema"])
    encoding = Encoding.from_dict(checkpoint["encoding"])
    if encoding.n_voices != config.n_voices:
        raise ValueError("the encoding and the model disagree on the number of voices")
    critic = None
    if "critic" in checkpoint:
        critic = critic_class(config)
        critic.load_state_dict(checkpoint["critic"])
        critic = critic.eval().to(device)
    train_config = dict(checkpoint.get("train_config", {}))
    return LoadedModel(
        generator.eval().to(device),
        encoding,
        config,
        int(checkpoint["step"]),
        source,
        backend_class(),
        critic,
        decoding_rules(train_config),
        train_config,
        float(checkpoint.get("elapsed_seconds", 0.0)),
    )


def decoding_rules(train_config: dict) -> DecodingRules:
    """The voice-leading decoding's costs for a model trained with ``train_config``: one
    taught the data's rate of voice crossings (``count_crossings`` off) keeps its crossings;
    one trained to avoid every crossing has them banned."""
    if recorded_settings(train_config)["count_crossings"]:
        return DEFAULT_RULES
    return replace(DEFAULT_RULES, crossing_cost=0.0)


@contextmanager
def compute_threads(threads: int) -> Iterator[None]:
    """Run the model work of the calling thread on ``threads`` cores inside the block, and
    restore the setting after it.

    The setting belongs to the thread that makes it (OpenMP's thread count is per thread),
    so a server uses this in each thread that serves requests. Measured on a 2-core CPU:
    composing 16 bars takes 0.3 s with 1 or 2 threads from the main thread, but 0.8-1.0 s
    with 2 threads from a second thread (its team and the main thread's waiting team compete
    for the cores) and 0.35 s with 1.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pretrained_names() -> list[str]:
    """The names of the models shipped inside the package (``chorales``, the default, and the
    others, which ``--model NAME`` loads)."""
    return sorted(path.stem for path in pretrained_path().parent.glob("*.pt"))


def pretrained_path(name: str = "chorales") -> Path:
    """A model shipped inside the package: ``chorales`` (the default model, a completion
    model) or ``musegan`` (the earlier unconditional model, kept as a baseline)."""
    return Path(__file__).parent.parent / "pretrained" / f"{name}.pt"

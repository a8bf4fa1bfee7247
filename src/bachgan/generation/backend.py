"""A loaded model and what every architecture's backend offers.

A trained chorale model is loaded once (:mod:`bachgan.generation.loading`) into a
:class:`LoadedModel`, which carries the :class:`Backend` of its architecture: the conditional
completion model (:mod:`bachgan.generation.completion_backend`, the shipped model) or the
unconditional MuseGAN baseline (:mod:`bachgan.generation.baselines`). Composing, harmonizing
and regenerating ask the backend; they never ask which architecture it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ..encoding import Encoding
from ..errors import BachganError
from ..models.conditional import CompletionConfig, CompletionGenerator
from ..models.musegan import Critic, MuseGANConfig, MuseGANGenerator
from ..roll import Roll
from ..theory import parse_meter
from .binarize import DEFAULT_RULES, DecodingRules
from .completion import Revisions

__all__ = [
    "DEFAULT_REVISIONS",
    "KEY_MODES",
    "Backend",
    "ComposeRequest",
    "HarmonyRequest",
    "LoadedModel",
    "batch_passes",
    "meter_bar_steps",
    "mode_index",
]

#: How a completion model revises what it writes, unless asked otherwise.
DEFAULT_REVISIONS = Revisions()
#: The modes a mode-conditioned model writes in, by index.
KEY_MODES = ("major", "minor")

#: What a backend may be unable to do, and how a request for it is refused.
ABILITIES = {
    "phrases": "{source} cannot place phrases: it is not a completion model",
    "lower voices": "{source} harmonizes sopranos only (not a completion model)",
    "regions": "{source} cannot regenerate a region: it is not a completion model",
}


@dataclass(frozen=True)
class ComposeRequest:
    """What :func:`~bachgan.generation.compose.generate` asks a backend for: ``n`` pieces of
    ``bars`` bars of ``bar_steps`` steps, each the critic's choice among ``candidates``, in
    ``key_mode`` (``None``: either), phrases closing in the bars ``closes`` (from 0), notes
    chosen by ``revisions`` (a completion model) or ``sampling`` at ``temperature`` (the
    baseline), ``meta`` the rolls' tempo, key and meter."""

    n: int
    bars: int
    bar_steps: int
    candidates: int
    key_mode: str | None
    closes: list[int]
    revisions: Revisions
    sampling: str
    temperature: float
    meta: dict


@dataclass(frozen=True)
class HarmonyRequest:
    """A melody to write voices around: its codes ``(pitch, onset)`` in C major / A minor,
    the voice ``row`` that sings it, its ``mode``, bar length and closing bars (from 0); the
    seed, and the settings of each way of writing (``revisions`` for a completion model;
    ``steps``, ``candidates``, ``rule_weight``, ``rules`` and ``progress`` for the latent
    search of the baseline)."""

    codes: tuple[np.ndarray, np.ndarray]
    row: int
    mode: str
    bar_steps: int
    closes: list[int]
    seed: int
    revisions: Revisions
    steps: int
    candidates: int
    rule_weight: float
    rules: DecodingRules
    progress: Callable[[float], None] | None


class Backend(Protocol):
    """How one architecture writes music; every method takes the :class:`LoadedModel`."""

    #: What it can do of :data:`ABILITIES`.
    abilities: frozenset[str]

    def describe(self, loaded: LoadedModel) -> str:
        """One line for people: what the model does."""

    def meters(self, loaded: LoadedModel) -> tuple[int, ...]:
        """The meters it writes in, as quarters per bar."""

    def check(self, loaded: LoadedModel) -> None:
        """Write and decode one bar, so that a broken model fails on loading."""

    def compose(
        self, loaded: LoadedModel, request: ComposeRequest, rng: torch.Generator
    ) -> list[Roll]:
        """New pieces in C major / A minor, before their last chord is held."""

    def mark_phrases(self, roll: Roll, closes: Sequence[int]) -> Roll:
        """``roll`` with fermatas where its phrases close, if the model places phrases."""

    def hold_close(self, roll: Roll) -> Roll:
        """``roll`` ending on a held chord, where the model does not write one itself."""

    def phrase_plan(self, bars: int) -> tuple[int, ...]:
        """The bars (from 1) where a composed piece of ``bars`` bars closes phrases when none
        are asked for, besides its last bar."""

    def harmonize(
        self, loaded: LoadedModel, request: HarmonyRequest
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """``(V, T)`` codes with the melody in its voice, and how well the model's own line
        fitted the melody (1: it was given)."""

    def sung_pitches(
        self, loaded: LoadedModel, voice: int, windows: int, rng: torch.Generator
    ) -> torch.Tensor:
        """The pitch codes ``voice`` sings in ``windows`` fixed samples of one pass."""

    def sampling_note(self, sampling: str | None) -> str:
        """Why ``sampling`` does not apply to this model (empty where it does)."""


@dataclass
class LoadedModel:
    """A trained chorale generator ready to write: EMA weights, its encoding and sizes, and the
    backend of its architecture."""

    generator: MuseGANGenerator | CompletionGenerator
    encoding: Encoding
    config: MuseGANConfig | CompletionConfig
    step: int
    source: str
    backend: Backend
    critic: Critic | None = None
    #: The costs the voice-leading decoding uses for this model.
    rules: DecodingRules = DEFAULT_RULES
    #: The settings it was trained with, and for how long.
    train_config: dict = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    #: Where each voice usually sings (MIDI pitch by voice index), worked out once when a
    #: melody is first fitted to it (:func:`bachgan.generation.harmonize.voice_centre`).
    voice_centres: dict[int, float] = field(default_factory=dict)

    @property
    def meters(self) -> tuple[int, ...]:
        """The meters it writes in, as quarters per bar."""
        return self.backend.meters(self)

    def can(self, ability: str) -> bool:
        """Whether its backend can do ``ability`` (a key of :data:`ABILITIES`)."""
        return ability in self.backend.abilities

    def require(self, ability: str) -> None:
        """A :class:`BachganError` saying so, unless the backend can do ``ability``."""
        if not self.can(ability):
            raise BachganError(ABILITIES[ability].format(source=self.source))


def meter_bar_steps(loaded: LoadedModel, time_signature: tuple[int, int] | str) -> int:
    """The steps in a bar of ``time_signature`` (``(3, 4)`` or ``"3/4"``) for a model that
    has learned that meter; a :class:`BachganError` names those it knows otherwise."""
    if isinstance(time_signature, str):
        try:
            time_signature = parse_meter(time_signature)
        except ValueError as error:
            raise BachganError(str(error)) from None
    numerator, denominator = time_signature
    if denominator != 4 or numerator not in loaded.meters:
        known = " and ".join(f"{beats}/4" for beats in loaded.meters)
        raise BachganError(
            f"the model writes in {known}, not {numerator}/{denominator} "
            f"({Path(loaded.source).name})"
        )
    return numerator * loaded.encoding.resolution


def mode_index(key_mode: str, loaded: LoadedModel) -> int:
    """0 for ``"major"``, 1 for ``"minor"``, for a model conditioned on the mode."""
    if key_mode not in KEY_MODES:
        raise BachganError(f"unknown mode {key_mode!r}; choose from {', '.join(KEY_MODES)}")
    if not loaded.config.modes:
        raise BachganError(
            f"{loaded.source} was trained without --mode-conditioning, so it cannot be asked "
            "for a mode"
        )
    return KEY_MODES.index(key_mode)


def batch_passes(batch: int, bars: int, bars_per_pass: int = 256) -> list[slice]:
    """The batch cut into slices of at most ``bars_per_pass`` bars in all (one sample at
    least), so that memory stays bounded however many or long the pieces (the shipped model
    needs about 1.5 MB a bar)."""
    size = max(1, bars_per_pass // bars)
    return [slice(start, min(start + size, batch)) for start in range(0, batch, size)]

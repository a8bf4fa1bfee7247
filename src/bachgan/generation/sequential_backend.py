"""The backend of the sequential model: it composes, harmonizes and rewrites regions as the
completion model's backend does (the same requests, keys, phrases and candidates), writing the
cells with :func:`~bachgan.generation.sequential.write_chorale`."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..roll import Roll
from .backend import LoadedModel
from .completion import Revisions
from .completion_backend import CompletionBackend
from .sequential import DEFAULT_TEMPERATURE, write_chorale

__all__ = ["PHRASE_BARS", "SequentialBackend"]

#: Bars per phrase of a composed piece when no phrases are asked for: 73 % of the distances
#: between the bars that hold fermatas in the training chorales are two bars (7 % one bar,
#: 12 % three, 7 % four).
PHRASE_BARS = 2


class SequentialBackend(CompletionBackend):
    """How the sequential model writes music (see the module docstring). The revisions of a
    request are the completion model's; of them this model takes only the temperature (0,
    the default, means its own :data:`~bachgan.generation.sequential.DEFAULT_TEMPERATURE`)."""

    def describe(self, loaded: LoadedModel) -> str:
        return (
            "writes chorales a sixteenth at a time, seeing the given music ahead "
            "(composes, harmonizes, regenerates)"
        )

    def complete(
        self,
        loaded: LoadedModel,
        pitch: torch.Tensor,
        onset: torch.Tensor,
        free: torch.Tensor,
        mode: torch.Tensor | None,
        revisions: Revisions,
        rng: torch.Generator,
        closes: Sequence[int] | None = None,
        bar_steps: int | None = None,
        novelty: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        temperature = revisions.temperature or DEFAULT_TEMPERATURE
        return write_chorale(
            loaded.generator, pitch, onset, free, mode, rng, temperature, closes, bar_steps, novelty
        )

    def hold_close(self, roll: Roll) -> Roll:
        """``roll`` as written: its last beats are already its tonic chord
        (:func:`~bachgan.generation.sequential.closing_rule`)."""
        return roll

    def phrase_plan(self, bars: int) -> tuple[int, ...]:
        """Every :data:`PHRASE_BARS` bars, as most of Bach's chorale phrases close."""
        return tuple(range(PHRASE_BARS, bars, PHRASE_BARS))

    def sampling_note(self, sampling: str | None) -> str:
        if sampling in ("argmax", "voice-leading"):
            return (
                f"--sampling {sampling} is for the musegan baseline; the sequential model draws "
                "every note (at --temperature with --sampling sample)"
            )
        return ""

"""Completing chorales with the conditional generator: one pass, then revision rounds.

A chorale is ``(pitch, onset)`` codes of shape ``(B, V, T)`` (:mod:`bachgan.encoding`) and a
``free`` mask of the same shape: true where the music is to be written. One pass of the
generator fills every free cell at once; each revision round then masks a random share of the
free cells (at (voice, eighth) granularity, the share falling from ``first_share`` to
``last_share`` over the rounds, as Coconet anneals its Gibbs sampling) and writes them again
given everything else. Given cells never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from .errors import BachganError
from .limits import MAX_REVISIONS, check_count
from .models.completion import CompletionGenerator, closing_steps

__all__ = ["NO_REVISIONS", "Revisions", "complete_chorale", "compose_chorales"]


@dataclass(frozen=True)
class Revisions:
    """How a completion is revised: ``rounds`` re-writes of a random share of the free cells,
    the share falling linearly from ``first_share`` to ``last_share``; generated cells take
    the most likely pitch (``temperature`` 0) or a draw at that temperature."""

    rounds: int = 16
    first_share: float = 0.5
    last_share: float = 0.1
    temperature: float = 0.0

    def __post_init__(self) -> None:
        check_count("revision rounds", self.rounds, MAX_REVISIONS, low=0)
        if not 0 < self.last_share <= self.first_share <= 1:
            raise BachganError("revision shares must satisfy 0 < last <= first <= 1")
        if not self.temperature >= 0:
            raise BachganError(f"temperature must be 0 or more (got {self.temperature})")

    def shares(self) -> list[float]:
        if self.rounds == 1:
            return [self.last_share]
        step = (self.first_share - self.last_share) / (self.rounds - 1)
        return [self.first_share - k * step for k in range(self.rounds)]


#: One pass of the generator and no revision.
NO_REVISIONS = Revisions(rounds=0)


@torch.no_grad()
def complete_chorale(
    generator: CompletionGenerator,
    pitch: torch.Tensor,
    onset: torch.Tensor,
    free: torch.Tensor,
    mode: torch.Tensor | None,
    revisions: Revisions,
    rng: torch.Generator,
    closes: Sequence[int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Write every ``free`` cell of the chorales ``pitch``/``onset`` ``(B, V, T)``: one pass
    over all of them, then ``revisions``. The model writes a close (a cadence, a held chord)
    in each bar of ``closes`` (counted from 0; by default the last bar, where the chorales
    end). Returns the completed ``(pitch, onset (bool))``."""
    free = free.float()
    batch, _, steps = pitch.shape
    bar = generator.config.steps_per_bar
    ending = closing_steps(steps, bar, [-(-steps // bar) - 1] if closes is None else closes)
    ending = ending[None].expand(batch, -1)
    pitch, onset = _write(generator, pitch, onset.float(), free, mode, ending, revisions, rng)
    eighth = max(generator.config.steps_per_beat // 2, 1)
    for share in revisions.shares() if revisions.rounds else []:
        cells = torch.rand(*free.shape[:2], -(-free.shape[2] // eighth), generator=rng) < share
        chosen = cells.float().repeat_interleave(eighth, dim=2)[..., : free.shape[2]] * free
        pitch, onset = _write(generator, pitch, onset, chosen, mode, ending, revisions, rng)
    return pitch, onset > 0


def _write(
    generator: CompletionGenerator,
    pitch: torch.Tensor,
    onset: torch.Tensor,
    mask: torch.Tensor,
    mode: torch.Tensor | None,
    ending: torch.Tensor,
    revisions: Revisions,
    rng: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass: the cells under ``mask`` rewritten given the rest."""
    classes = generator.config.n_classes
    noise = generator.noise(pitch.shape[0], pitch.shape[2], rng)
    output = generator(F.one_hot(pitch, classes).float(), onset, mask, noise, mode, ending)
    if revisions.temperature > 0:
        logits = output.pitch_logits / revisions.temperature
        drawn = torch.multinomial(logits.softmax(-1).flatten(0, 2), 1, generator=rng)
        new_pitch = drawn.view(pitch.shape)
    else:
        new_pitch = output.pitch_logits.argmax(dim=-1)
    new_onset = (output.onset_logits > 0).float()
    written = mask > 0
    return torch.where(written, new_pitch, pitch), torch.where(written, new_onset, onset)


def compose_chorales(
    generator: CompletionGenerator,
    n: int,
    steps: int,
    mode: torch.Tensor | None,
    revisions: Revisions,
    rng: torch.Generator,
    closes: Sequence[int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` new chorales of ``steps`` steps: an empty chorale completed
    (:func:`complete_chorale`), closing phrases in the bars ``closes`` (by default the last).
    Returns ``(pitch, onset)`` codes ``(n, V, steps)``."""
    shape = (n, generator.config.n_voices, steps)
    rest = torch.full(shape, generator.config.n_classes - 1, dtype=torch.long)
    return complete_chorale(
        generator, rest, torch.zeros(shape), torch.ones(shape), mode, revisions, rng, closes
    )

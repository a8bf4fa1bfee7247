"""Completing chorales with the conditional generator: one pass, then revision rounds.

A chorale is ``(pitch, onset)`` codes of shape ``(B, V, T)`` (:mod:`bachgan.encoding`) and a
``free`` mask of the same shape: true where the music is to be written. One pass of the
generator fills every free cell at once; each revision round then masks a random share of the
free cells (at (voice, eighth) granularity, the share falling from ``first_share`` to
``last_share`` over the rounds, as Coconet anneals its Gibbs sampling) and writes them again
given everything else; a final polish writes the free cells as the voices' jointly likeliest
lines without parallel fifths and octaves (:class:`Revisions`). Given cells never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from ..errors import BachganError
from ..limits import MAX_REVISIONS, check_count
from ..models.conditional import CompletionGenerator, closing_steps
from ..models.musegan import GeneratorOutput, bar_positions
from .binarize import DecodingRules, voice_leading_decode

__all__ = ["NO_REVISIONS", "POLISH_RULES", "Revisions", "complete_chorale", "compose_chorales"]


#: The costs of the final polish: parallels and leaps over an octave, nothing else (the model
#: has learned Bach's crossings and keys; its lone rests are its own).
POLISH_RULES = DecodingRules(crossing_cost=0.0, key_cost=0.0, hold_lone_rests=False)


@dataclass(frozen=True)
class Revisions:
    """How a completion is revised: ``rounds`` re-writes of a random share of the free cells,
    the share falling linearly from ``first_share`` to ``last_share``; generated cells take
    the most likely pitch (``temperature`` 0) or a draw at that temperature."""

    rounds: int = 16
    first_share: float = 0.5
    last_share: float = 0.1
    temperature: float = 0.0
    #: Write each eighth note's two sixteenths as one choice (the pitch that is likeliest over
    #: both, a note starting only on the eighth): sixteenth notes are rare in chorales, and
    #: choosing each sixteenth alone strews short notes.
    eighths: bool = True
    #: The onset logit above which a voice strikes again the pitch it is holding (a pitch
    #: change is always a new note); 0 takes the model's even odds.
    restrike: float = 0.0
    #: After the rounds, write the free cells once more as the voices' jointly likeliest
    #: lines that avoid parallel fifths and octaves and leaps over an octave (the Viterbi
    #: search of :func:`bachgan.generation.binarize.voice_leading_decode`, on the model's
    #: probabilities
    #: for each cell given the others); ``None`` leaves the last round as it is.
    polish: DecodingRules | None = POLISH_RULES

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


#: One pass of the generator, as it writes: no revision, no polish.
NO_REVISIONS = Revisions(rounds=0, polish=None)


@dataclass(frozen=True)
class _Conditions:
    """What every pass of one completion shares: each piece's mode ``(B,)``, the steps where
    phrases close ``(B, T)``, each step's position in its bar ``(T,)`` and a bias added to
    every pitch logit ``(B, V, T, C)`` (or ``None``)."""

    mode: torch.Tensor | None
    ending: torch.Tensor
    positions: torch.Tensor
    bias: torch.Tensor | None = None

    def run(
        self,
        generator: CompletionGenerator,
        pitch: torch.Tensor,
        onset: torch.Tensor,
        mask: torch.Tensor,
        rng: torch.Generator,
    ) -> GeneratorOutput:
        """The generator's logits for the cells under ``mask``, given the others."""
        noise = generator.noise(pitch.shape[0], pitch.shape[2], rng)
        given = F.one_hot(pitch, generator.config.n_classes).float()
        output = generator(given, onset, mask, noise, self.mode, self.ending, self.positions)
        if self.bias is None:
            return output
        return GeneratorOutput(output.pitch_logits + self.bias, output.onset_logits)


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
    bar_steps: int | None = None,
    novelty: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Write every ``free`` cell of the chorales ``pitch``/``onset`` ``(B, V, T)``: one pass
    over all of them, then ``revisions``. The model writes a close (a cadence, a held chord)
    in each bar of ``closes`` (counted from 0; by default the last bar, where the chorales
    end). Bars last ``bar_steps`` steps (12 in 3/4; by default the model's 4/4 bar). With
    ``novelty`` above 0 the pitch a free cell held before costs that many nats in every pass,
    so a rewritten region moves away from the old notes unless they are much the likeliest.
    Returns the completed ``(pitch, onset (bool))``."""
    free = free.float()
    batch, _, steps = pitch.shape
    bar = bar_steps or generator.config.steps_per_bar
    ending = closing_steps(steps, bar, [-(-steps // bar) - 1] if closes is None else closes)
    bias = _old_pitch_cost(pitch, free, generator.config.n_classes, novelty)
    given = _Conditions(mode, ending[None].expand(batch, -1), bar_positions(steps, bar), bias)
    pitch, onset = _write(generator, pitch, onset.float(), free, given, revisions, rng)
    eighth = max(generator.config.steps_per_beat // 2, 1)
    for share in revisions.shares() if revisions.rounds else []:
        cells = torch.rand(*free.shape[:2], -(-free.shape[2] // eighth), generator=rng) < share
        chosen = cells.float().repeat_interleave(eighth, dim=2)[..., : free.shape[2]] * free
        pitch, onset = _write(generator, pitch, onset, chosen, given, revisions, rng)
    if revisions.polish is not None:
        pitch = _polished(generator, pitch, onset, free, given, revisions, rng)
    return pitch, onset > 0


def _old_pitch_cost(
    pitch: torch.Tensor, free: torch.Tensor, classes: int, cost: float
) -> torch.Tensor | None:
    """``-cost`` on each free cell's present pitch ``(B, V, T, C)``; ``None`` for no cost."""
    if cost <= 0:
        return None
    return -cost * F.one_hot(pitch, classes).float() * free[..., None]


def _polished(
    generator: CompletionGenerator,
    pitch: torch.Tensor,
    onset: torch.Tensor,
    free: torch.Tensor,
    given: _Conditions,
    revisions: Revisions,
    rng: torch.Generator,
) -> torch.Tensor:
    """The free cells rewritten as the voices' jointly likeliest lines under the polish
    rules. Each cell's log-probabilities come from one of two passes that mask alternate
    eighths of the free cells (so each is predicted given its neighbours); given cells are
    fixed. Searched per eighth when the revisions write eighths."""
    classes = generator.config.n_classes
    pair = max(generator.config.steps_per_beat // 2, 1) if revisions.eighths else 1
    steps = pitch.shape[2]
    alternate = (torch.arange(steps) // pair % 2).float()
    log_probs = torch.zeros(*pitch.shape, classes)
    for half in (alternate, 1 - alternate):
        mask = free * half
        output = given.run(generator, pitch, onset, mask, rng)
        log_probs += output.pitch_logits.log_softmax(-1) * mask[..., None]
    fixed = F.one_hot(pitch, classes).float().log().clamp(min=-1e4)
    log_probs = torch.where(free[..., None] > 0, log_probs, fixed)
    if pair > 1:
        log_probs, _ = _per_eighth(log_probs, torch.zeros(pitch.shape), pair)
    lines = voice_leading_decode(log_probs.numpy(), generator.config.lowest_pitch, revisions.polish)
    lines = torch.from_numpy(lines).repeat_interleave(pair, dim=2)[..., :steps]
    return torch.where(free > 0, lines, pitch)


def _write(
    generator: CompletionGenerator,
    pitch: torch.Tensor,
    onset: torch.Tensor,
    mask: torch.Tensor,
    given: _Conditions,
    revisions: Revisions,
    rng: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass: the cells under ``mask`` rewritten given the rest."""
    output = given.run(generator, pitch, onset, mask, rng)
    logits, onset_logits = output.pitch_logits, output.onset_logits
    pair = max(generator.config.steps_per_beat // 2, 1) if revisions.eighths else 1
    if pair > 1:
        logits, onset_logits = _per_eighth(logits, onset_logits, pair)
    if revisions.temperature > 0:
        logits = logits / revisions.temperature
        drawn = torch.multinomial(logits.softmax(-1).flatten(0, 2), 1, generator=rng)
        new_pitch = drawn.view(logits.shape[:3])
    else:
        new_pitch = logits.argmax(dim=-1)
    new_onset = (onset_logits > revisions.restrike).float()
    if pair > 1:
        steps = pitch.shape[2]
        new_pitch = new_pitch.repeat_interleave(pair, dim=2)[..., :steps]
        new_onset = _on_the_eighth(new_onset, pair, steps)
    written = mask > 0
    return torch.where(written, new_pitch, pitch), torch.where(written, new_onset, onset)


def _per_eighth(
    logits: torch.Tensor, onset_logits: torch.Tensor, pair: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pitch log-probabilities summed over the ``pair`` steps of each eighth ``(B, V, E, C)``
    and the onset logit of each eighth's first step ``(B, V, E)``."""
    batch, voices, steps, classes = logits.shape
    padded = -(-steps // pair) * pair
    log_probs = F.pad(logits.log_softmax(-1), (0, 0, 0, padded - steps))
    summed = log_probs.view(batch, voices, padded // pair, pair, classes).sum(dim=3)
    return summed, onset_logits[..., ::pair]


def _on_the_eighth(onset: torch.Tensor, pair: int, steps: int) -> torch.Tensor:
    """Onsets per eighth ``(B, V, E)`` as steps ``(B, V, T)``: on each eighth's first step."""
    spread = torch.zeros(*onset.shape[:2], onset.shape[2] * pair)
    spread[..., ::pair] = onset
    return spread[..., :steps]


def compose_chorales(
    generator: CompletionGenerator,
    n: int,
    steps: int,
    mode: torch.Tensor | None,
    revisions: Revisions,
    rng: torch.Generator,
    closes: Sequence[int] | None = None,
    bar_steps: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` new chorales of ``steps`` steps in bars of ``bar_steps`` (by default 4/4): an
    empty chorale completed (:func:`complete_chorale`), closing phrases in the bars
    ``closes`` (by default the last). Returns ``(pitch, onset)`` codes ``(n, V, steps)``."""
    shape = (n, generator.config.n_voices, steps)
    rest = torch.full(shape, generator.config.n_classes - 1, dtype=torch.long)
    free = torch.ones(shape)
    return complete_chorale(
        generator, rest, torch.zeros(shape), free, mode, revisions, rng, closes, bar_steps
    )

"""Writing chorales with the sequential generator: the free cells drawn one sixteenth at a
time, voice by voice, each from the model's probabilities given everything before it and
every given cell (:mod:`bachgan.models.sequential`). Given cells never change.

Unlike the completion model's one pass and revisions, nothing is taken at its most likely:
every cell is drawn (at a temperature), so the pieces have Bach's variety of rhythm and
harmony rather than his most typical bar again and again.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from ..models.conditional import closing_steps
from ..models.musegan import bar_positions
from ..models.sequential import Rule, SequentialConfig, SequentialGenerator, to_tokens

__all__ = ["DEFAULT_TEMPERATURE", "MINOR_TONIC", "voice_leading_rule", "write_chorale"]

#: The temperature the sequential model's cells are drawn at unless asked otherwise.
DEFAULT_TEMPERATURE = 1.0

#: The tonic (pitch class) of the model's minor key, A minor; its major key is C major.
MINOR_TONIC = 9


@torch.inference_mode()
def write_chorale(
    generator: SequentialGenerator,
    pitch: torch.Tensor,
    onset: torch.Tensor,
    free: torch.Tensor,
    mode: torch.Tensor | None,
    rng: torch.Generator,
    temperature: float = DEFAULT_TEMPERATURE,
    closes: Sequence[int] | None = None,
    bar_steps: int | None = None,
    novelty: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Write every ``free`` cell of the chorales ``pitch``/``onset`` ``(B, V, T)`` in C major
    (``mode`` 0) or A minor (1), drawing each at ``temperature`` (0: the most likely). The
    model writes a close (a cadence, a held chord) in each bar of ``closes`` (counted from 0;
    by default the last bar). Bars last ``bar_steps`` steps (12 in 3/4; by default the
    model's 4/4 bar). With ``novelty`` above 0 the pitch a free cell held before costs that
    many nats, so a rewritten region moves away from the old notes. Returns the completed
    ``(pitch, onset (bool))``."""
    config = generator.config
    free = free.float()
    batch, _, steps = pitch.shape
    bar = bar_steps or config.steps_per_bar
    last = -(-steps // bar) - 1
    phrase_ends = closing_steps(steps, bar, [last] if closes is None else closes)
    ending = torch.stack([phrase_ends, closing_steps(steps, bar, [last])])
    tokens = _given_tokens(pitch, onset, free, config.rest)
    tonic = None
    if config.tonics:
        minor = mode if mode is not None else torch.zeros(batch, dtype=torch.long)
        tonic = minor * MINOR_TONIC
    written = generator.write(
        tokens,
        free,
        mode,
        tonic,
        ending[None].expand(batch, -1, -1),
        bar_positions(steps, bar),
        _drawing(temperature, rng, config.n_tokens),
        _old_pitch_cost(pitch, free, config, novelty),
        voice_leading_rule(config),
    )
    return written.codes()


def voice_leading_rule(config: SequentialConfig) -> Rule:
    """The rule that keeps each drawn note from moving in parallel fifths or octaves with a
    voice written before it at the same step (:func:`~bachgan.theory.parallel_perfect_moves`,
    step to step) and from leaping over an octave: the same faults the completion model's
    polish avoids. Such a note is refused; holding, resting and every other note remain."""
    codes = torch.arange(config.n_tokens)
    is_pitch = codes < config.rest

    def refuse(
        voice: int, written: tuple[int, ...], before: torch.Tensor, now: torch.Tensor
    ) -> torch.Tensor:
        previous = before[:, voice, None]  # (B, 1)
        moves = is_pitch & (previous != config.rest) & (codes != previous)  # (B, K)
        refused = moves & ((codes - previous).abs() > 12)
        for other in written:
            was, goes = before[:, other, None], now[:, other, None]
            other_moves = (was != config.rest) & (goes != config.rest) & (goes != was)
            upper = other < voice  # the other voice is written above this one
            sign = 1 if upper else -1
            interval_before = (sign * (was - previous)) % 12
            interval_after = (sign * (goes - codes)) % 12
            refused |= (
                moves
                & other_moves
                & (torch.sign(codes - previous) == torch.sign(goes - was))
                & ((interval_before == 0) | (interval_before == 7))
                & (interval_after == interval_before)
            )
        return torch.where(refused, -1e4, 0.0)

    return refuse


def _given_tokens(
    pitch: torch.Tensor, onset: torch.Tensor, free: torch.Tensor, rest: int
) -> torch.Tensor:
    """The tokens of the given cells; a given note that goes on from a free cell is struck
    again where the given cells begin, since the note before it is written anew."""
    tokens = to_tokens(pitch, onset, rest)
    after_free = F.pad(free, (1, 0))[..., :-1] > 0
    return torch.where(after_free & (free == 0) & (tokens == rest + 1), pitch, tokens)


def _drawing(temperature: float, rng: torch.Generator, tokens: int):
    """The choice of a token from its logits: drawn at ``temperature``, or the most likely."""

    def choose(logits: torch.Tensor) -> torch.Tensor:
        if temperature <= 0:
            picked = logits.argmax(dim=-1)
        else:
            probs = (logits / temperature).softmax(dim=-1)
            picked = torch.multinomial(probs, 1, generator=rng)[:, 0]
        return F.one_hot(picked, tokens).float()

    return choose


def _old_pitch_cost(
    pitch: torch.Tensor, free: torch.Tensor, config: SequentialConfig, cost: float
) -> torch.Tensor | None:
    """``-cost`` on the token that strikes each free cell's present pitch ``(B, V, T, K)``
    (nothing on a rest); ``None`` for no cost."""
    if cost <= 0:
        return None
    sounding = (pitch != config.rest) & (free > 0)
    return -cost * F.one_hot(pitch, config.n_tokens).float() * sounding[..., None]

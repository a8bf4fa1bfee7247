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

__all__ = [
    "CIRCLING_NOTES",
    "CLOSING_BEATS",
    "DEFAULT_TEMPERATURE",
    "HOLD_BIAS",
    "MINOR_TONIC",
    "OPENING_BIAS",
    "circling_rule",
    "closing_rule",
    "voice_leading_rule",
    "write_chorale",
]

#: The temperature the sequential model's cells are drawn at unless asked otherwise.
DEFAULT_TEMPERATURE = 1.0

#: The tonic (pitch class) of the model's minor key, A minor; its major key is C major.
MINOR_TONIC = 9

#: The beats at the end of a piece that sound its tonic chord, as Bach's chorales close.
CLOSING_BEATS = 2

#: What HOLD's logit gains when writing (nats). The model gives HOLD less probability than
#: Bach's notes are held on chorales it has not seen (teacher forced on the held-out ones:
#: 0.706 against 0.723), and writing from its own notes it strikes more often still (eighth
#: notes 41 % of its notes, Bach's 33 %); 0.25 brings them to 37 % and lets the tree judge
#: tell its rhythm from Bach's 73 % of the time instead of 81 % (docs/ABLATIONS.md).
HOLD_BIAS = 0.25

#: The notes of the shortest circling figure (a-b-a-b-a-b) that writing refuses.
CIRCLING_NOTES = 6

#: What the notes of the tonic chord gain where a piece begins, when writing (nats). The
#: model opens on the tonic in about half its pieces where Bach opens on it in three of four
#: (its opening row sees few openings: one window in twelve begins a piece); this brings it
#: to his rate without making every opening the same (docs/ABLATIONS.md).
OPENING_BIAS = 1.0


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
    batch, voices, steps = pitch.shape
    bar = bar_steps or config.steps_per_bar
    last = -(-steps // bar) - 1
    rows = [
        closing_steps(steps, bar, [last] if closes is None else closes),
        closing_steps(steps, bar, [last]),
    ]
    if config.marks_opening:
        rows.append(closing_steps(steps, bar, [0]))
    ending = torch.stack(rows)
    tokens = _given_tokens(pitch, onset, free, config.rest)
    minor = mode if mode is not None else torch.zeros(batch, dtype=torch.long)
    bias = _writing_bias(config) + _old_pitch_cost(pitch, free, config, novelty)
    tonic = minor * MINOR_TONIC if config.tonics else None
    written = generator.write(
        tokens,
        free,
        mode,
        tonic,
        ending[None].expand(batch, -1, -1),
        bar_positions(steps, bar),
        _drawing(temperature, rng, (voices * steps, batch, config.n_tokens)),
        bias.expand(batch, -1, steps, -1),
        _together(
            voice_leading_rule(config, minor),
            closing_rule(pitch, free, minor, config),
            opening_rule(pitch, free, minor, config),
            circling_rule(config, batch),
        ),
    )
    return written.codes()


def voice_leading_rule(config: SequentialConfig, minor: torch.Tensor) -> Rule:
    """The rule that keeps each drawn note from moving in parallel fifths or octaves with a
    voice written before it at the same step (:func:`~bachgan.theory.parallel_perfect_moves`,
    step to step), from leaping over an octave (the faults the completion model's polish
    avoids) and, in the pieces in A minor (``minor`` ``(B,)``), from the augmented second
    between F and G sharp, which Bach's chorale voices never sing. Such a note is refused;
    holding, resting and every other note remain."""
    rest = config.rest
    codes = torch.arange(config.n_tokens)
    is_pitch = codes < rest
    sounded = torch.arange(config.n_classes)[:, None]
    too_far = is_pitch & ((codes - sounded).abs() > 12) & (sounded != rest)  # (C, K)
    classes = (torch.arange(config.n_tokens) + config.lowest_pitch) % 12
    sixth, raised_seventh = (MINOR_TONIC + 8) % 12, (MINOR_TONIC + 11) % 12
    augmented = (
        is_pitch
        & (sounded != rest)
        & ((codes - sounded).abs() == 3)
        & (classes[sounded] + classes == sixth + raised_seventh)
        & ((classes == sixth) | (classes == raised_seventh))
    )  # (C, K): F to G sharp, or back, in A minor
    leaps = torch.stack([too_far, too_far | augmented])  # (2, C, K): major, minor
    costs = torch.where(leaps, -1e4, 0.0)
    in_minor = (minor > 0).long()
    voices = range(config.n_voices)
    upper = torch.tensor([[other < voice for other in voices] for voice in voices])
    signs = torch.where(upper, 1, -1)  # (V, V): +1 where the other voice is above

    def refuse(
        voice: int, step: int, written: tuple[int, ...], before: torch.Tensor, now: torch.Tensor
    ) -> torch.Tensor:
        previous = before[:, voice]  # (B,)
        if not written:
            return costs[in_minor, previous]
        others = list(written)
        was, goes = before[:, others], now[:, others]  # (B, W)
        sign = signs[voice, others]
        interval = (sign * (was - previous[:, None])) % 12
        at_risk = ((interval == 0) | (interval == 7)) & (was != rest) & (goes != rest)
        at_risk &= (goes != was) & (previous != rest)[:, None]
        if not at_risk.any():
            return costs[in_minor, previous]
        refused = leaps[in_minor, previous]
        for column in torch.nonzero(at_risk.any(dim=0))[:, 0].tolist():
            moving, target = goes[:, column, None], sign[column] * goes[:, column, None]
            parallel = (
                is_pitch
                & (codes != previous[:, None])
                & (
                    torch.sign(codes - previous[:, None])
                    == torch.sign(moving - was[:, column, None])
                )
                & ((target - sign[column] * codes) % 12 == interval[:, column, None])
            )
            refused = refused | (parallel & at_risk[:, column, None])
        return torch.where(refused, -1e4, 0.0)

    return refuse


def circling_rule(config: SequentialConfig, batch: int) -> Rule:
    """The rule that keeps a voice from circling: after five notes that alternate between two
    pitches (a-b-a-b-a), the sixth may not be b again. Bach's voices do so once in 28 windows
    of four bars, the model two to three times as often without this rule. It follows each
    voice's notes as they are written, a step at a time (a rest or a note struck again on the
    same pitch does not end a figure)."""
    rest = config.rest
    shape = (batch, config.n_voices)
    previous, before_previous = torch.full(shape, -1), torch.full(shape, -1)
    length = torch.zeros(shape, dtype=torch.long)  # notes in the alternating figure so far
    at_risk, last_step = [False] * config.n_voices, -1

    def refuse(
        voice: int, step: int, written: tuple[int, ...], before: torch.Tensor, now: torch.Tensor
    ) -> torch.Tensor | float:
        nonlocal at_risk, last_step
        if step != last_step:  # once a step: each voice's note at the step before
            last_step = step
            moved = (before != rest) & (before != previous)
            alternating = moved & ((length <= 1) | (before == before_previous))
            length.copy_(torch.where(alternating, length + 1, torch.where(moved, 2, length)))
            before_previous.copy_(torch.where(moved, previous, before_previous))
            previous.copy_(torch.where(moved, before, previous))
            at_risk = (length >= CIRCLING_NOTES - 1).any(dim=0).tolist()
        if not at_risk[voice]:
            return 0.0
        circling = length[:, voice] >= CIRCLING_NOTES - 1
        costs = torch.zeros(batch, config.n_tokens)
        costs[circling, before_previous[circling, voice]] = -1e4
        return costs

    return refuse


def _given_tokens(
    pitch: torch.Tensor, onset: torch.Tensor, free: torch.Tensor, rest: int
) -> torch.Tensor:
    """The tokens of the given cells; a given note that goes on from a free cell is struck
    again where the given cells begin, since the note before it is written anew."""
    tokens = to_tokens(pitch, onset, rest)
    after_free = F.pad(free, (1, 0))[..., :-1] > 0
    return torch.where(after_free & (free == 0) & (tokens == rest + 1), pitch, tokens)


def _drawing(temperature: float, rng: torch.Generator, shape: tuple[int, ...]):
    """The choice of a token from its logits ``(B, K)``: drawn at ``temperature`` (the most
    likely after Gumbel noise, drawn for all ``shape`` ``(cells, B, K)`` at once, one cell's
    per call), or the most likely."""
    cells = iter(_gumbel_noise(shape, rng) * temperature if temperature > 0 else [])

    def choose(logits: torch.Tensor) -> torch.Tensor:
        noise = next(cells, 0.0)
        return F.one_hot((logits + noise).argmax(dim=-1), shape[-1]).float()

    return choose


def _gumbel_noise(shape: tuple[int, ...], rng: torch.Generator) -> torch.Tensor:
    """Standard Gumbel noise: the most likely token after adding it to logits is a draw."""
    uniform = torch.rand(shape, generator=rng).clamp(1e-10, 1 - 1e-7)
    return -torch.log(-torch.log(uniform))


def _writing_bias(config: SequentialConfig) -> torch.Tensor:
    """``(1, V, 1, K)``: -1e4 on the pitches outside each voice's writing range (the data's,
    narrower than the ranges the model was trained in when it was trained transposed), and
    :data:`HOLD_BIAS` on HOLD."""
    bias = torch.zeros(1, config.n_voices, 1, config.n_tokens)
    for voice, (low, high) in enumerate(config.writing_ranges or config.voice_ranges):
        bias[0, voice, 0, :low] = -1e4
        bias[0, voice, 0, high + 1 : config.rest] = -1e4
    bias[..., config.hold] = HOLD_BIAS
    return bias


def closing_rule(
    pitch: torch.Tensor, free: torch.Tensor, minor: torch.Tensor, config: SequentialConfig
) -> Rule:
    """The rule that makes the last :data:`CLOSING_BEATS` beats of a piece its tonic chord
    (C major; A minor, its major third allowed: the Picardy third Bach often ends on), the
    bass on the root: every other note, the rest and the holding of a note outside the chord
    are refused there. A piece whose given cells there are not all in that chord (a melody
    that ends elsewhere, or rests) is left free."""
    steps = pitch.shape[-1]
    first = max(steps - CLOSING_BEATS * config.steps_per_beat, 0)
    allowed = _tonic_chord(minor, config)  # (B, V, K)
    given = pitch[..., first:]
    table = allowed[:, :, None].expand(-1, -1, given.shape[-1], -1)
    in_chord = torch.gather(table, 3, given[..., None])[..., 0]
    free_piece = ~(in_chord | (free[..., first:] > 0)).flatten(1).all(dim=1)

    def refuse(
        voice: int, step: int, written: tuple[int, ...], before: torch.Tensor, now: torch.Tensor
    ) -> torch.Tensor | float:
        if step < first:
            return 0.0
        ok = allowed[:, voice].clone()
        ok[:, config.hold] = torch.gather(allowed[:, voice], 1, before[:, voice, None])[:, 0]
        return torch.where(ok | free_piece[:, None], 0.0, -1e4)

    return refuse


def opening_rule(
    pitch: torch.Tensor, free: torch.Tensor, minor: torch.Tensor, config: SequentialConfig
) -> Rule:
    """The rule that makes the tonic chord :data:`OPENING_BIAS` nats likelier than the other
    notes where a piece begins (C major; A minor, the bass on the root): at every step before
    the first one that sounds, so that an upbeat after rests stays as likely as it was (resting
    gains as much as the chord). A step whose given notes are outside that chord (a melody
    that begins elsewhere) is left free."""
    allowed = _tonic_chord(minor, config)  # (B, V, K)
    favoured = allowed | (torch.arange(config.n_tokens) == config.rest)
    bias = torch.where(favoured, OPENING_BIAS, 0.0)
    in_chord = torch.gather(allowed, 2, pitch) | (free > 0)
    fits = in_chord.all(dim=1)  # (B, T): no given note there outside the chord
    begun = torch.zeros(len(minor), dtype=torch.bool)
    weights, last_step = None, -1

    def favour(
        voice: int, step: int, written: tuple[int, ...], before: torch.Tensor, now: torch.Tensor
    ) -> torch.Tensor | float:
        nonlocal weights, last_step
        if step != last_step:  # once a step: which pieces have not begun yet
            last_step = step
            begun.logical_or_(before.ne(config.rest).any(dim=1))
            waiting = fits[:, step] & ~begun
            weights = waiting[:, None].float() if waiting.any() else None
        return 0.0 if weights is None else bias[:, voice] * weights

    return favour


def _tonic_chord(minor: torch.Tensor, config: SequentialConfig) -> torch.Tensor:
    """``(B, V, K)`` bool: the tokens that sound the tonic chord of each piece's mode, the
    bass only its root (no rest, no HOLD)."""
    pitch_class = (torch.arange(config.rest) + config.lowest_pitch) % 12
    interval = (pitch_class[None] - torch.where(minor > 0, MINOR_TONIC, 0)[:, None]) % 12
    minor_third = (interval == 3) & (minor[:, None] > 0)
    in_chord = (interval == 0) | (interval == 4) | (interval == 7) | minor_third
    allowed = in_chord[:, None].repeat(1, config.n_voices, 1)
    allowed[:, -1] = interval == 0
    return F.pad(allowed, (0, config.n_tokens - config.rest), value=False)


def _together(*rules: Rule) -> Rule:
    """The rule that adds what each of ``rules`` adds."""
    return lambda *arguments: sum(rule(*arguments) for rule in rules)


def _old_pitch_cost(
    pitch: torch.Tensor, free: torch.Tensor, config: SequentialConfig, cost: float
) -> torch.Tensor | float:
    """``-cost`` on the token that strikes each free cell's present pitch ``(B, V, T, K)``
    (nothing on a rest); 0 for no cost."""
    if cost <= 0:
        return 0.0
    sounding = (pitch != config.rest) & (free > 0)
    return -cost * F.one_hot(pitch, config.n_tokens).float() * sounding[..., None]

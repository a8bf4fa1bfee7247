"""The sequential chorale generator: it writes the free cells of a partly given chorale one
sixteenth at a time, voice by voice (soprano, bass, alto, tenor), each choice seeing every given
cell before and after it and every cell already written. No file I/O here.

A cell is a *token*: a pitch that starts a note, the rest, or :data:`HOLD` (the voice's note
goes on). A beat's rhythm is therefore chosen note by note, a suspension is a HOLD over the bar
line, a repeated note is the same pitch struck again: the model decides each voice's note
values at sixteenth resolution and learns how often Bach holds, repeats and divides.

Shapes: ``B`` batch, ``V`` voices, ``T`` steps (sixteenths), ``K`` tokens (the ``C`` pitch
classes of the encoding, the rest last among them, then HOLD). A mask is ``(B, V, T)`` float:
1 where a cell is to be written, 0 where it is given.

The given cells, the mask, each step's place in the bar, the phrase ends, the mode and the
tonic go through dilated convolutions over the whole piece (the *context*, which sees ahead);
a GRU runs over time on the context and the cells of the step before; a head per voice gives
its token's logits from the GRU, the context and the tokens of the voices written before it
at the same step. Trained by teacher forcing (:meth:`SequentialGenerator.forward`), it writes
by drawing the cells in that order (:meth:`SequentialGenerator.write`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
from torch import nn
from torch.nn import functional as F

from .conditional import _ResidualBlock, sizes_from_dict, sizes_to_dict
from .musegan import meter_features

__all__ = [
    "VOICE_ORDER",
    "SequentialConfig",
    "SequentialGenerator",
    "Written",
    "from_tokens",
    "to_tokens",
]

#: The order in which the voices of one step are written: the outer voices first.
VOICE_ORDER = (0, 3, 1, 2)

#: Positions in a bar the model tells apart (a 4/4 bar of sixteenths).
_BAR_POSITIONS = 16


@dataclass(frozen=True)
class SequentialConfig:
    """Sizes of the sequential model; plain values, stored in checkpoints."""

    n_voices: int = 4
    n_classes: int = 61
    steps_per_bar: int = 16
    bars: int = 4
    pitch_embedding: int = 32
    channels: int = 128
    #: Dilations of the context's residual blocks.
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1, 2, 4, 8, 16)
    recurrent: int = 256
    head: int = 256
    dropout: float = 0.3
    #: Condition on the mode: 0 (off) or 2 (major, minor).
    modes: int = 2
    minor_share: float = 0.0
    #: Condition on the tonic (12 pitch classes) when trained in every key; 0 when trained in
    #: C major / A minor only.
    tonics: int = 0
    lowest_pitch: int = 28
    #: Each voice's pitch codes in training: the data's, widened by the transposition.
    voice_ranges: tuple[tuple[int, int], ...] = field(default=((0, 59),) * 4)
    #: Each voice's pitch codes when writing in C major / A minor: the data's own (``None``:
    #: the training ranges).
    writing_ranges: tuple[tuple[int, int], ...] | None = None
    #: Whether the ending input has a third row, 1 on the piece's first bar (its opening).
    marks_opening: bool = False
    #: The meters the model has learned, as beats (quarters) per bar: 4 (4/4), 3 (3/4).
    meters: tuple[int, ...] = (4,)
    critic_channels: int = 128
    critic_group: int = 4

    @property
    def steps_per_beat(self) -> int:
        return self.steps_per_bar // 4

    @property
    def rest(self) -> int:
        return self.n_classes - 1

    @property
    def hold(self) -> int:
        return self.n_classes

    @property
    def n_tokens(self) -> int:
        return self.n_classes + 1

    def to_dict(self) -> dict:
        data = sizes_to_dict(self)
        if self.writing_ranges is not None:
            data["writing_ranges"] = [list(r) for r in self.writing_ranges]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SequentialConfig:
        config = sizes_from_dict(cls, data)
        if config.writing_ranges is None:
            return config
        ranges = tuple(tuple(int(x) for x in r) for r in config.writing_ranges)
        return replace(config, writing_ranges=ranges)


def to_tokens(pitch: torch.Tensor, onset: torch.Tensor, rest: int) -> torch.Tensor:
    """``(..., T)`` tokens of pitch codes and onsets: HOLD (``rest + 1``) where a sounding
    pitch goes on without a new onset, the pitch code elsewhere. A note already sounding at
    the first step counts as struck there."""
    before = F.pad(pitch, (1, 0), value=-1)[..., :-1]
    held = (onset <= 0) & (pitch == before) & (pitch != rest)
    return torch.where(held, torch.full_like(pitch, rest + 1), pitch)


def from_tokens(tokens: torch.Tensor, rest: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(pitch, onset)`` codes ``(..., T)`` of ``tokens``: a HOLD takes the pitch of the last
    token that was not a HOLD (the rest when there is none)."""
    steps = torch.arange(tokens.shape[-1], device=tokens.device).expand_as(tokens)
    held = tokens == rest + 1
    last_written = torch.where(held, -1, steps).cummax(dim=-1).values
    pitch = tokens.gather(-1, last_written.clamp(min=0))
    pitch = torch.where(last_written < 0, rest, pitch)
    onset = ~held & (pitch != rest)
    return pitch, onset


@dataclass(frozen=True)
class Written:
    """What :meth:`SequentialGenerator.write` returns: the tokens ``(B, V, T, K)`` one-hot,
    and the same cells as the critic reads them, pitch one-hot ``(B, V, T, C)`` and onsets
    ``(B, V, T)``; all carry gradients when written with a differentiable choice."""

    tokens: torch.Tensor
    pitch: torch.Tensor
    onset: torch.Tensor

    def codes(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(pitch, onset)`` codes ``(B, V, T)``: long and bool."""
        return self.pitch.argmax(dim=-1), self.onset > 0.5


#: How a head's logits ``(B, K)`` become a one-hot choice ``(B, K)``.
Choice = Callable[[torch.Tensor], torch.Tensor]

#: What a rule adds to a voice's logits ``(B, K)`` given the voice, the step, the voices
#: written before it at this step, each voice's pitch code at the step before ``(B, V)`` and
#: at this step ``(B, V)`` (the rest code where silent; meaningful for the voices written so
#: far).
Rule = Callable[[int, int, tuple[int, ...], torch.Tensor, torch.Tensor], torch.Tensor | float]


class SequentialGenerator(nn.Module):
    """G(given cells, mask, mode, tonic, ending, meter) -> each cell's token, written in
    time order (see the module docstring)."""

    def __init__(self, config: SequentialConfig) -> None:
        super().__init__()
        self.config = config
        v, e, h, k = config.n_voices, config.pitch_embedding, config.channels, config.n_tokens
        self.token_embedding = nn.Embedding(k, e)
        self.voice_embedding = nn.Parameter(torch.randn(v, e) * 0.1)
        ending_rows = 3 if config.marks_opening else 2
        n_inputs = v * e + v + _BAR_POSITIONS + 4 + ending_rows + config.modes + config.tonics
        self.inputs = nn.Conv1d(n_inputs, h, 1)
        self.blocks = nn.ModuleList(_ResidualBlock(h, d) for d in config.dilations)
        self.context_out = nn.Sequential(nn.GroupNorm(8, h), nn.GELU())
        self.recurrent = nn.GRU(h + v * e, config.recurrent, batch_first=True)
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Linear(config.recurrent + h + v * e, config.head),
                nn.GELU(),
                nn.Linear(config.head, k),
            )
            for _ in range(v)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.register_buffer("range_mask", _token_range_mask(config), persistent=False)
        hold_column = F.one_hot(torch.tensor(config.hold), config.n_tokens).bool()
        self.register_buffer("hold_column", hold_column, persistent=False)

    def forward(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        mode: torch.Tensor | None,
        tonic: torch.Tensor | None,
        ending: torch.Tensor,
        positions: torch.Tensor,
    ) -> torch.Tensor:
        """Teacher-forced logits ``(B, V, T, K)`` of every cell given the real ``tokens``
        ``(B, V, T)`` before it (and the given cells under ``mask == 0`` everywhere).
        ``mode`` ``(B,)`` for a mode-conditioned model, ``tonic`` ``(B,)`` for a
        tonic-conditioned one, ``ending`` ``(B, 2, T)``: 1 on the steps of the bars where a
        phrase closes (the last bar of a piece among them) and, apart, 1 on the steps of the
        piece's last bar (a piece closes on its tonic, a phrase anywhere); with
        ``marks_opening`` a third row, 1 on the steps of the piece's first bar; ``positions``
        ``(B, T)`` or ``(T,)``: each step's place in its bar."""
        voices = tokens.shape[1]
        context = self._context(tokens, mask, mode, tonic, ending, positions)
        embedded = self.dropout(self._embed(tokens)).permute(0, 2, 1, 3)  # (B, T, V, E)
        before = F.pad(embedded.flatten(2), (0, 0, 1, 0))[:, :-1]
        hidden, _ = self.recurrent(torch.cat([context, before], dim=-1))
        hidden = self.dropout(hidden)
        logits = [None] * voices
        for place, voice in enumerate(VOICE_ORDER):
            seen = torch.zeros_like(embedded)
            seen[:, :, list(VOICE_ORDER[:place])] = embedded[:, :, list(VOICE_ORDER[:place])]
            logits[voice] = self.heads[voice](torch.cat([hidden, context, seen.flatten(2)], -1))
        return torch.stack(logits, dim=1) + self.range_mask[None, :, None]

    def write(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        mode: torch.Tensor | None,
        tonic: torch.Tensor | None,
        ending: torch.Tensor,
        positions: torch.Tensor,
        choose: Choice,
        bias: torch.Tensor | None = None,
        rule: Rule | None = None,
    ) -> Written:
        """Write the cells under ``mask`` in order, each token chosen by ``choose`` from its
        logits (plus ``bias`` ``(B, V, T, K)`` when given, and what ``rule`` adds); the given
        cells of ``tokens`` are kept. A HOLD is allowed only where the voice is sounding."""
        batch, voices, steps = tokens.shape
        config = self.config
        context = self._context(tokens, mask, mode, tonic, ending, positions)
        given = F.one_hot(tokens, config.n_tokens).float()
        free = mask[..., None] > 0
        any_free = free[..., 0].any(dim=0).tolist()  # (V, T): a cell to write in the batch
        parts = _WritingParts(self, context)
        silence = F.one_hot(torch.tensor(config.rest), config.n_classes).float()
        sounding = [silence.to(tokens.device).expand(batch, -1)] * voices
        state = torch.zeros(batch, config.recurrent, device=tokens.device)
        recurrent_input = parts.recurrent_context[:, 0]
        chosen_tokens, pitches = [], []
        before = torch.full((batch, voices), config.rest, device=tokens.device)
        for step in range(steps):
            now = before.clone()
            state = parts.recurrent_step(recurrent_input, state)
            if step + 1 < steps:
                recurrent_input = parts.recurrent_context[:, step + 1]
            seen = [parts.head_context[voice][:, step] for voice in range(voices)]
            state_shares = parts.state_shares(state)
            step_tokens = [None] * voices
            for place, voice in enumerate(VOICE_ORDER):
                token = given[:, voice, step]
                if any_free[voice][step]:
                    logits = parts.head_logits(voice, state_shares[voice], seen[voice])
                    if bias is not None:
                        logits = logits + bias[:, voice, step]
                    if rule is not None:
                        logits = logits + rule(voice, step, VOICE_ORDER[:place], before, now)
                    silent = sounding[voice][:, config.rest, None].detach() > 0.5
                    logits = logits.masked_fill(silent & self.hold_column, -1e4)
                    token = torch.where(free[:, voice, step], choose(logits), token)
                step_tokens[voice] = token
                for later, seen_part in parts.seen_by_later(voice, place, token):
                    seen[later] = seen[later] + seen_part
                if step + 1 < steps:
                    recurrent_input = recurrent_input + token @ parts.recurrent_tokens[voice]
                held = token[:, config.hold, None]
                sounding[voice] = token[:, : config.n_classes] + held * sounding[voice]
                now[:, voice] = sounding[voice].detach().argmax(dim=-1)
            chosen_tokens.append(torch.stack(step_tokens, dim=1))
            pitches.append(torch.stack(sounding, dim=1))
            before = now
        one_hot = torch.stack(chosen_tokens, dim=2)
        onset = one_hot[..., : config.rest].sum(dim=-1)
        return Written(one_hot, torch.stack(pitches, dim=2), onset)

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, V, T, E)``: each token's embedding plus its voice's."""
        return self.token_embedding(tokens) + self.voice_embedding[None, :, None]

    def _context(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        mode: torch.Tensor | None,
        tonic: torch.Tensor | None,
        ending: torch.Tensor,
        positions: torch.Tensor,
    ) -> torch.Tensor:
        """``(B, T, H)``: what the given cells and the conditions say about each step."""
        batch, _, steps = tokens.shape
        kept = 1 - mask
        embedded = self._embed(tokens) * kept[..., None]
        place = positions.to(tokens.device).expand(batch, -1)
        per_step = [
            embedded.permute(0, 1, 3, 2).reshape(batch, -1, steps),
            mask,
            F.one_hot(place.clamp(max=_BAR_POSITIONS - 1), _BAR_POSITIONS).float().transpose(1, 2),
            meter_features(place, self.config.steps_per_beat).transpose(1, 2),
            ending,
        ]
        for name, value, classes in (
            ("mode", mode, self.config.modes),
            ("tonic", tonic, self.config.tonics),
        ):
            if classes:
                if value is None:
                    raise ValueError(f"this model is conditioned on the {name}: give each piece's")
                one_hot = F.one_hot(value, classes).float()
                per_step.append(one_hot[..., None].expand(-1, -1, steps))
        hidden = self.inputs(torch.cat(per_step, dim=1))
        for block in self.blocks:
            hidden = block(hidden)
        return self.dropout(self.context_out(hidden).transpose(1, 2))


class _WritingParts:
    """The generator's weights cut for writing one cell at a time: what the context and
    each token add to the GRU's input and to each voice head's first layer, computed once
    per piece, so that each cell costs a few small products (the same sums as
    :meth:`SequentialGenerator.forward`, in another order)."""

    def __init__(self, generator: SequentialGenerator, context: torch.Tensor) -> None:
        config = generator.config
        self.config, self.heads = config, generator.heads
        hidden, width = config.channels, config.pitch_embedding
        tables = [
            generator.token_embedding.weight + generator.voice_embedding[voice]
            for voice in range(config.n_voices)
        ]
        recurrent = generator.recurrent
        weight = recurrent.weight_ih_l0
        self.recurrent_context = context @ weight[:, :hidden].T + recurrent.bias_ih_l0
        self.recurrent_tokens = [
            table @ weight[:, hidden + v * width : hidden + (v + 1) * width].T
            for v, table in enumerate(tables)
        ]
        self.recurrent_weight, self.recurrent_bias = recurrent.weight_hh_l0, recurrent.bias_hh_l0
        state = config.recurrent
        self.head_context, self.head_tokens = [], []
        self.head_state = torch.cat([head[0].weight[:, :state] for head in generator.heads]).T
        for head in generator.heads:
            first = head[0].weight
            self.head_context.append(context @ first[:, state : state + hidden].T + head[0].bias)
            start = state + hidden
            self.head_tokens.append(
                [
                    table @ first[:, start + v * width : start + (v + 1) * width].T
                    for v, table in enumerate(tables)
                ]
            )
        self.range_mask = generator.range_mask

    def recurrent_step(self, given: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """One step of the GRU from its input's product ``given`` ``(B, 3G)``."""
        mixed = F.linear(state, self.recurrent_weight, self.recurrent_bias)
        reset_in, update_in, new_in = given.chunk(3, dim=-1)
        reset_state, update_state, new_state = mixed.chunk(3, dim=-1)
        reset = torch.sigmoid(reset_in + reset_state)
        update = torch.sigmoid(update_in + update_state)
        new = torch.tanh(new_in + reset * new_state)
        return (1 - update) * new + update * state

    def state_shares(self, state: torch.Tensor) -> list[torch.Tensor]:
        """What the GRU ``state`` ``(B, R)`` adds to each voice head's first layer."""
        return list((state @ self.head_state).chunk(len(self.heads), dim=-1))

    def head_logits(
        self, voice: int, state_share: torch.Tensor, seen: torch.Tensor
    ) -> torch.Tensor:
        """``voice``'s token logits ``(B, K)`` from its ``state_share`` (:meth:`state_shares`)
        and ``seen``: its first layer's sum of the context and the tokens written before it
        at this step."""
        head = self.heads[voice]
        return head[2](head[1](seen + state_share)) + self.range_mask[voice]

    def seen_by_later(self, voice: int, place: int, token: torch.Tensor):
        """What ``token``, just written by ``voice`` (at ``place`` in the order), adds to
        the first layer of each voice written after it at the same step."""
        for later in VOICE_ORDER[place + 1 :]:
            yield later, token @ self.head_tokens[later][voice]


def _token_range_mask(config: SequentialConfig) -> torch.Tensor:
    """``(V, K)``: 0 for each voice's pitches, the rest and HOLD, -1e4 outside its range."""
    mask = torch.full((config.n_voices, config.n_tokens), -1e4)
    for voice, (low, high) in enumerate(config.voice_ranges):
        mask[voice, low : high + 1] = 0
    mask[:, config.rest :] = 0
    return mask

"""The conditional chorale GAN: a generator that completes a partly given four-voice chorale,
a critic that judges completed chorales knowing which cells were generated, and the random
masks it is trained with. No file I/O here.

Shapes: ``B`` batch, ``V`` voices, ``T`` steps (sixteenths), ``C`` pitch classes of the
encoding (pitches + rest, the rest last). A mask is ``(B, V, T)`` float: 1 where a cell is to
be generated, 0 where it is given.

Composing is completing an empty chorale; harmonizing is completing a chorale whose soprano is
given; regenerating a region is completing a chorale with that region masked. The generator
is convolutional over time, so one trained on 4-bar windows completes pieces of any length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from .musegan import (
    Critic,
    GeneratorOutput,
    MuseGANConfig,
    _range_mask,
    bar_positions,
    effective_onsets,
    meter_features,
)

__all__ = [
    "MASK_KINDS",
    "CompletionConfig",
    "CompletionGenerator",
    "closing_steps",
    "complete",
    "completion_critic",
    "critic_extra",
    "ending_steps",
    "random_masks",
]


@dataclass(frozen=True)
class CompletionConfig:
    """Sizes of the conditional model; plain values, stored in checkpoints."""

    n_voices: int = 4
    n_classes: int = 61
    steps_per_bar: int = 16
    bars: int = 4
    pitch_embedding: int = 32
    channels: int = 128
    #: Dilations of the residual blocks; their receptive field must cover a window.
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1, 2, 4, 8, 16)
    #: Noise channels, drawn once per beat.
    z_channels: int = 16
    critic_channels: int = 128
    critic_group: int = 4
    #: Condition on the mode: 0 (off) or 2 (major, minor).
    modes: int = 2
    minor_share: float = 0.0
    lowest_pitch: int = 28
    voice_ranges: tuple[tuple[int, int], ...] = field(default=((0, 59),) * 4)
    #: The meters the model has learned, as beats (quarters) per bar: 4 (4/4), 3 (3/4).
    meters: tuple[int, ...] = (4,)

    @property
    def steps_per_beat(self) -> int:
        return self.steps_per_bar // 4

    def to_dict(self) -> dict:
        return sizes_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CompletionConfig:
        return sizes_from_dict(cls, data)


def sizes_to_dict(config) -> dict:
    """A model's sizes (a dataclass with ``voice_ranges``, ``dilations`` and ``meters``) as
    plain JSON values."""
    data = asdict(config)
    data["voice_ranges"] = [list(r) for r in config.voice_ranges]
    data["dilations"] = list(config.dilations)
    data["meters"] = list(config.meters)
    return data


def sizes_from_dict(cls: type, data: dict):
    """The sizes of class ``cls`` from :func:`sizes_to_dict`'s values (a checkpoint that
    records no meters learned 4/4)."""
    values = dict(data)
    values["voice_ranges"] = tuple(tuple(int(x) for x in r) for r in data["voice_ranges"])
    values["dilations"] = tuple(int(d) for d in data["dilations"])
    values["meters"] = tuple(int(m) for m in data.get("meters", (4,)))
    return cls(**values)


class CompletionGenerator(nn.Module):
    """G(given cells, mask, noise, mode, ending, meter) -> pitch and onset logits for every cell.

    Each voice's given pitches are embedded (a shared table plus a voice vector), concatenated
    with the given onsets, the mask, the noise, each step's place in its bar (downbeat, beat,
    eighth: this is how the model knows the meter), the ending input and the mode, and passed
    through residual blocks of dilated 1-D convolutions over time; a 1x1 head gives
    each voice's pitch logits (masked outside its range) and onset logit.
    """

    def __init__(self, config: CompletionConfig) -> None:
        super().__init__()
        self.config = config
        v, e, h = config.n_voices, config.pitch_embedding, config.channels
        self.pitch_embedding = nn.Linear(config.n_classes, e, bias=False)
        self.voice_embedding = nn.Parameter(torch.zeros(v, e))
        n_inputs = v * e + 2 * v + config.z_channels + 4 + 1 + config.modes
        self.inputs = nn.Conv1d(n_inputs, h, 1)
        self.blocks = nn.ModuleList(_ResidualBlock(h, d) for d in config.dilations)
        self.head = nn.Sequential(
            nn.GroupNorm(8, h), nn.GELU(), nn.Conv1d(h, v * (config.n_classes + 1), 1)
        )
        self.register_buffer("range_mask", _range_mask(config), persistent=False)

    def forward(
        self,
        given_pitch: torch.Tensor,
        given_onset: torch.Tensor,
        mask: torch.Tensor,
        noise: torch.Tensor,
        mode: torch.Tensor | None = None,
        ending: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        """``given_pitch`` one-hot ``(B, V, T, C)`` and ``given_onset`` ``(B, V, T)`` (their
        masked cells are ignored), ``mask`` ``(B, V, T)``, ``noise`` ``(B, z, T // beat)``,
        ``mode`` ``(B,)`` for a mode-conditioned model, ``ending`` ``(B, T)``: 1 on the steps
        of a bar where a piece (:func:`ending_steps`) or a phrase (:func:`closing_steps`)
        closes; none by default. ``positions`` ``(B, T)`` or ``(T,)``: each step's position
        in its bar (:func:`~bachgan.models.musegan.bar_positions`); by default 4/4 bars from
        the first step."""
        batch, voices, steps, classes = given_pitch.shape
        kept = 1 - mask
        embedded = self.pitch_embedding(given_pitch * kept[..., None])
        embedded = (embedded + self.voice_embedding[None, :, None]) * kept[..., None]
        per_step = [
            embedded.permute(0, 1, 3, 2).reshape(batch, -1, steps),
            given_onset * kept,
            mask,
            noise.repeat_interleave(self.config.steps_per_beat, dim=2)[..., :steps],
            self._meter(positions, steps).expand(batch, -1, -1),
            (torch.zeros_like(mask[:, 0]) if ending is None else ending)[:, None],
        ]
        if self.config.modes:
            if mode is None:
                raise ValueError("this model is conditioned on the mode: give each piece's mode")
            modes = F.one_hot(mode, self.config.modes).to(given_pitch.dtype)
            per_step.append(modes[..., None].expand(-1, -1, steps))
        hidden = self.inputs(torch.cat(per_step, dim=1))
        for block in self.blocks:
            hidden = block(hidden)
        out = self.head(hidden).reshape(batch, voices, classes + 1, steps).transpose(2, 3)
        pitch_logits = out[..., :classes] + self.range_mask[None, :, None]
        return GeneratorOutput(pitch_logits, out[..., classes])

    def _meter(self, positions: torch.Tensor | None, steps: int) -> torch.Tensor:
        """``(B or 1, 4, T)``: whether each step is a downbeat, a beat, an eighth."""
        if positions is None:
            positions = bar_positions(steps, self.config.steps_per_bar)
        positions = positions.to(self.inputs.weight.device)
        features = meter_features(positions, self.config.steps_per_beat).transpose(-1, -2)
        return features if features.dim() == 3 else features[None]

    def noise(
        self, batch: int, steps: int, generator: torch.Generator | None = None, device="cpu"
    ) -> torch.Tensor:
        """Noise for ``batch`` pieces of ``steps`` steps: ``(B, z, beats)``."""
        beats = -(-steps // self.config.steps_per_beat)
        return torch.randn(batch, self.config.z_channels, beats, generator=generator, device=device)


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(8, channels),
            nn.GELU(),
            nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation),
            nn.GroupNorm(8, channels),
            nn.GELU(),
            nn.Conv1d(channels, channels, 1),
        )

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.body(hidden)


def complete(
    output: GeneratorOutput,
    given_pitch: torch.Tensor,
    given_onset: torch.Tensor,
    mask: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The completed chorale as the critic sees it: given cells as they are, generated cells
    one-hot (argmax forward, softmax gradients backward) with thresholded onset bits.
    Returns ``(pitch (B, V, T, C), onset (B, V, T))``."""
    probs = output.pitch_logits.softmax(dim=-1)
    hard = F.one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype)
    generated = hard + probs - probs.detach()
    onset_probs = torch.sigmoid(output.onset_logits)
    generated_bits = (onset_probs > 0.5).to(probs.dtype) + onset_probs - onset_probs.detach()
    pitch = mask[..., None] * generated + (1 - mask[..., None]) * given_pitch
    bits = mask * generated_bits + (1 - mask) * given_onset
    return pitch, effective_onsets(pitch, bits)


def completion_critic(config: CompletionConfig) -> Critic:
    """The critic of :mod:`bachgan.models.musegan` (pitches, onsets, chroma, intervals between
    voices, parallel motion, the window's pitch classes) with each voice's mask and the
    ending steps as extra per-step inputs (:func:`critic_extra`), so that it knows which
    cells were generated and where a piece ends."""
    return Critic(critic_config(config))


def critic_config(config: CompletionConfig) -> MuseGANConfig:
    """The critic's sizes for a completion model."""
    return MuseGANConfig(
        n_voices=config.n_voices,
        n_classes=config.n_classes,
        steps_per_bar=config.steps_per_bar,
        bars=config.bars,
        critic_channels=config.critic_channels,
        critic_group=config.critic_group,
        critic_motion_features=True,
        critic_window_chroma=True,
        critic_extra_features=config.n_voices + 1,
        pitch_embedding=config.pitch_embedding,
        modes=config.modes,
        lowest_pitch=config.lowest_pitch,
        voice_ranges=config.voice_ranges,
    )


def ending_steps(ends: torch.Tensor, steps: int, bar_steps: int | torch.Tensor) -> torch.Tensor:
    """``(B, T)``: 1 on the last bar's steps of the pieces whose ``ends`` ``(B,)`` is true
    (their window ends where the piece ends, on a bar line), 0 elsewhere; ``bar_steps`` is
    the bar length, one for all or ``(B,)``, one per window."""
    from_end = steps - torch.arange(steps, device=ends.device)
    bars = torch.as_tensor(bar_steps, device=ends.device).reshape(-1, 1)
    return ends.float()[:, None] * (from_end[None] <= bars)


def closing_steps(steps: int, steps_per_bar: int, bars: Sequence[int]) -> torch.Tensor:
    """``(T,)``: 1 on the steps of the ``bars`` (counted from 0) where a phrase closes, as
    the ending input marks a piece's last bar in training."""
    ending = torch.zeros(steps)
    for bar in bars:
        ending[bar * steps_per_bar : (bar + 1) * steps_per_bar] = 1
    return ending


def critic_extra(mask: torch.Tensor, ending: torch.Tensor) -> torch.Tensor:
    """The critic's extra per-step inputs ``(B, V + 1, T)``: each voice's mask, the ending."""
    return torch.cat([mask, ending[:, None]], dim=1)


#: The kinds of training mask and how often each is drawn: everything (composing), all but the
#: soprano (harmonizing), a random set of whole voices, a span of beats in some voices, and
#: cells scattered over (voice, eighth) at a random rate (revising).
MASK_KINDS = {"all": 0.2, "harmonize": 0.15, "voices": 0.15, "span": 0.2, "scattered": 0.3}


def random_masks(
    batch: int, voices: int, steps: int, steps_per_beat: int, generator: torch.Generator
) -> torch.Tensor:
    """``(B, V, T)`` masks of the :data:`MASK_KINDS`, each piece's kind drawn at random."""
    weights = torch.tensor(list(MASK_KINDS.values()))
    kinds = torch.multinomial(weights, batch, replacement=True, generator=generator)
    masks = torch.zeros(batch, voices, steps)
    for index, kind in enumerate(kinds.tolist()):
        masks[index] = _MASKERS[kind](voices, steps, steps_per_beat, generator)
    return masks


def _mask_all(voices: int, steps: int, beat: int, rng: torch.Generator) -> torch.Tensor:
    return torch.ones(voices, steps)


def _mask_harmonize(voices: int, steps: int, beat: int, rng: torch.Generator) -> torch.Tensor:
    mask = torch.ones(voices, steps)
    mask[0] = 0
    return mask


def _mask_voices(voices: int, steps: int, beat: int, rng: torch.Generator) -> torch.Tensor:
    chosen = torch.randint(1, 2**voices, (1,), generator=rng).item()
    rows = torch.tensor([(chosen >> v) & 1 for v in range(voices)], dtype=torch.float)
    return rows[:, None].expand(voices, steps).clone()


def _mask_span(voices: int, steps: int, beat: int, rng: torch.Generator) -> torch.Tensor:
    beats = steps // beat
    length = int(torch.randint(1, beats + 1, (1,), generator=rng))
    start = int(torch.randint(0, beats - length + 1, (1,), generator=rng))
    mask = torch.zeros(voices, steps)
    mask[:, start * beat : (start + length) * beat] = 1
    if torch.rand(1, generator=rng) < 0.5:  # in some voices only
        mask *= _mask_voices(voices, 1, beat, rng)
    return mask


def _mask_scattered(voices: int, steps: int, beat: int, rng: torch.Generator) -> torch.Tensor:
    eighth = max(beat // 2, 1)
    rate = float(torch.rand(1, generator=rng)) * 0.8 + 0.1
    cells = (torch.rand(voices, -(-steps // eighth), generator=rng) < rate).float()
    return cells.repeat_interleave(eighth, dim=1)[:, :steps]


_MASKERS = [
    {
        "all": _mask_all,
        "harmonize": _mask_harmonize,
        "voices": _mask_voices,
        "span": _mask_span,
        "scattered": _mask_scattered,
    }[kind]
    for kind in MASK_KINDS
]

"""A MuseGAN-class multi-track GAN for four-voice music: temporal + bar generators, a critic
that sees pitches, onsets, chroma and the intervals between voices, both optionally
conditioned on the window's mode (major or minor). No file I/O here.

Shapes: ``B`` batch, ``V`` voices, ``N`` bars, ``T = N * steps_per_bar`` steps, ``C`` pitch
classes of the encoding (pitches + rest).

The generator is convolutional over bars and over time, so a model trained on 4-bar windows
writes pieces of any number of bars without seams: every bar line is generated the same way
as the bar lines inside a training window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "Critic",
    "GeneratorOutput",
    "MuseGANConfig",
    "MuseGANGenerator",
    "Noise",
    "TextureStatistics",
    "VoiceLeadingFaults",
    "bar_pitch_class_pairs",
    "bar_positions",
    "meter_features",
    "voice_pitch_distribution",
]


@dataclass(frozen=True)
class MuseGANConfig:
    """Sizes of the MuseGAN-class model; plain values, stored in checkpoints."""

    n_voices: int = 4
    n_classes: int = 55  # pitches + one rest class (the last)
    steps_per_bar: int = 16
    #: Steps per bar the generator decides; each is held for steps_per_bar / this many steps.
    generated_steps_per_bar: int = 16
    bars: int = 4
    z_global: int = 32
    z_bar: int = 32
    z_voice: int = 16
    z_voice_bar: int = 16
    temporal_channels: int = 128
    channels: int = 128
    critic_channels: int = 128
    #: Windows per group for the critic's minibatch standard deviation; the trainer keeps real,
    #: generated and interpolated windows in separate groups.
    critic_group: int = 4
    #: Give the critic, per voice pair and step, whether both voices move from one perfect
    #: interval (unison, fifth, octave) to the same one: parallel motion, made explicit.
    critic_motion_features: bool = False
    #: Give the critic, at every step, the pitch-class distribution of the whole window, so
    #: that it judges each chord against the window's key.
    critic_window_chroma: bool = False
    #: With decisions per eighth on a sixteenth grid: let the second sixteenth of each eighth
    #: change pitch or restrike. It starts as a copy of the first (zero-initialised head), so
    #: the model begins writing eighths and learns where the data has sixteenths.
    sixteenth_refinement: bool = False
    pitch_embedding: int = 32
    #: Per-step inputs the critic gets beside the music (the conditional model's mask).
    critic_extra_features: int = 0
    #: Condition generator and critic on the window's mode: 0 (off) or 2 (major, minor).
    modes: int = 0
    #: The share of minor windows in the training data: how often :meth:`Noise.sample` asks
    #: a conditioned generator for a minor window.
    minor_share: float = 0.0
    lowest_pitch: int = 33
    voice_ranges: tuple[tuple[int, int], ...] = field(default=((0, 53),) * 4)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["voice_ranges"] = [list(r) for r in self.voice_ranges]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> MuseGANConfig:
        values = dict(data)
        values["voice_ranges"] = tuple(tuple(int(x) for x in r) for r in data["voice_ranges"])
        return cls(**values)


@dataclass
class Noise:
    """The generator's latent inputs: shared and per-voice, global and per-bar, and for a
    mode-conditioned generator each window's mode (0 major, 1 minor)."""

    global_: torch.Tensor  # (B, z_global)
    bars: torch.Tensor  # (B, N, z_bar)
    voice: torch.Tensor  # (B, V, z_voice)
    voice_bars: torch.Tensor  # (B, V, N, z_voice_bar)
    mode: torch.Tensor | None = None  # (B,) long

    @classmethod
    def sample(
        cls,
        config: MuseGANConfig,
        batch: int,
        bars: int | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> Noise:
        bars = bars or config.bars

        def draw(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=generator, device=device)

        noise = cls(
            draw(batch, config.z_global),
            draw(batch, bars, config.z_bar),
            draw(batch, config.n_voices, config.z_voice),
            draw(batch, config.n_voices, bars, config.z_voice_bar),
        )
        if config.modes:
            minor = torch.rand(batch, generator=generator, device=device) < config.minor_share
            noise.mode = minor.long()
        return noise

    def parameters(self) -> list[torch.Tensor]:
        """The continuous inputs (what latent optimisation moves); not the mode."""
        return [self.global_, self.bars, self.voice, self.voice_bars]

    def to(self, device: torch.device | str) -> Noise:
        mode = None if self.mode is None else self.mode.to(device)
        return Noise(*(t.to(device) for t in self.parameters()), mode=mode)

    def pick(self, index: slice | torch.Tensor) -> Noise:
        """The pieces at ``index`` (a slice or indices), detached."""
        mode = None if self.mode is None else self.mode[index]
        return Noise(*(t.detach()[index] for t in self.parameters()), mode=mode)


@dataclass
class GeneratorOutput:
    """Pitch logits ``(B, V, T, C)`` (out-of-range pitches masked) and onset logits
    ``(B, V, T)``."""

    pitch_logits: torch.Tensor
    onset_logits: torch.Tensor


#: The second sixteenth's onset logit starts this far below 0: no restrikes until learned.
_RESTRIKE_OFFSET = 4.0


class MuseGANGenerator(nn.Module):
    """Temporal generators (shared and per voice) make one latent per bar; the bar generator
    (a shared trunk with private per-voice heads) turns them into steps."""

    def __init__(self, config: MuseGANConfig) -> None:
        super().__init__()
        self.config = config
        c, t, v = config.channels, config.temporal_channels, config.n_voices
        self.shared_temporal = _bar_convs(config.z_global + config.z_bar + config.modes, t)
        self.private_temporal = _bar_convs((config.z_voice + config.z_voice_bar) * v, t * v, v)
        self.voice_embedding = nn.Embedding(v, 16)
        upsample = config.generated_steps_per_bar // 4
        self.trunk = nn.Sequential(
            nn.ConvTranspose1d(2 * t + 16, c, kernel_size=4, stride=4),
            _GroupNormAct(c),
            nn.Conv1d(c, c, 3, padding=1),
            _GroupNormAct(c),
            nn.ConvTranspose1d(c, c, kernel_size=upsample, stride=upsample),
            _GroupNormAct(c),
            nn.Conv1d(c, c, 5, padding=2),
            _GroupNormAct(c),
        )
        self.heads = nn.Sequential(
            nn.Conv1d(c * v, c * v, 3, padding=1, groups=v),
            _GroupNormAct(c * v, groups=v * 8),
            nn.Conv1d(c * v, (config.n_classes + 1) * v, 1, groups=v),
        )
        self.refinement = None
        if config.sixteenth_refinement:
            if config.steps_per_bar != 2 * config.generated_steps_per_bar:
                raise ValueError("sixteenth_refinement needs two steps per decision")
            self.refinement = nn.Conv1d(c * v, (config.n_classes + 1) * v, 1, groups=v)
            nn.init.zeros_(self.refinement.weight)
            nn.init.zeros_(self.refinement.bias)
        self.register_buffer("range_mask", _range_mask(config), persistent=False)

    def forward(self, noise: Noise) -> GeneratorOutput:
        cfg = self.config
        batch, bars = noise.bars.shape[:2]
        v = cfg.n_voices
        global_ = noise.global_
        if cfg.modes:
            global_ = torch.cat([global_, _mode_one_hot(noise.mode, cfg, global_)], dim=1)
        shared_in = torch.cat([global_[:, None].expand(-1, bars, -1), noise.bars], dim=2)
        shared = self.shared_temporal(shared_in.transpose(1, 2))  # (B, t, N)
        private_in = torch.cat(
            [noise.voice[:, :, None].expand(-1, -1, bars, -1), noise.voice_bars], dim=3
        )  # (B, V, N, zv)
        private = self.private_temporal(private_in.permute(0, 1, 3, 2).reshape(batch, -1, bars))
        private = private.reshape(batch, v, -1, bars)  # (B, V, t, N)
        voices = torch.arange(v, device=shared.device)
        embedding = self.voice_embedding(voices)[None, :, :, None].expand(batch, -1, -1, bars)
        bar_in = torch.cat([shared[:, None].expand(-1, v, -1, -1), private, embedding], dim=2)
        features = self.trunk(bar_in.reshape(batch * v, -1, bars))  # (B*V, c, T)
        steps = features.shape[-1]
        hidden = self.heads[:-1](features.reshape(batch, v * cfg.channels, steps))
        out = self._per_voice(self.heads[-1](hidden))  # (B, V, T, C+1)
        range_mask = self.range_mask[None, :, None, :]
        pitch_logits, onset_logits = out[..., :-1] + range_mask, out[..., -1]
        hold = cfg.steps_per_bar // cfg.generated_steps_per_bar
        if self.refinement is not None:  # the second sixteenth: the first, plus a change
            change = self._per_voice(self.refinement(hidden))
            second_pitch = pitch_logits + change[..., :-1]
            second_onset = change[..., -1] - _RESTRIKE_OFFSET
            pitch_logits = torch.stack([pitch_logits, second_pitch], dim=3).flatten(2, 3)
            onset_logits = torch.stack([onset_logits, second_onset], dim=3).flatten(2)
        elif hold > 1:  # each decision lasts `hold` steps; only its first step may start a note
            pitch_logits = pitch_logits.repeat_interleave(hold, dim=2)
            silent = torch.full_like(onset_logits, -1e4)
            onset_logits = torch.stack([onset_logits] + [silent] * (hold - 1), dim=3)
            onset_logits = onset_logits.flatten(2)
        return GeneratorOutput(pitch_logits, onset_logits)

    def _per_voice(self, out: torch.Tensor) -> torch.Tensor:
        """``(B, V * (C + 1), T)`` -> ``(B, V, T, C + 1)``."""
        batch, _, steps = out.shape
        return out.reshape(batch, self.config.n_voices, -1, steps).transpose(2, 3)


def critic_input(output: GeneratorOutput) -> tuple[torch.Tensor, torch.Tensor]:
    """What the critic sees of the generator's output: ``(pitch (B, V, T, C), onset (B, V, T))``.

    Deterministic binary neurons: hard one-hot pitches and 0/1 onsets in the forward pass,
    softmax/sigmoid gradients backward (straight-through).
    """
    probs = output.pitch_logits.softmax(dim=-1)
    onset_probs = torch.sigmoid(output.onset_logits)
    hard = F.one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype)
    pitch = hard + probs - probs.detach()
    onset_bits = (onset_probs > 0.5).to(probs.dtype) + onset_probs - onset_probs.detach()
    return pitch, effective_onsets(pitch, onset_bits)


def effective_onsets(pitch: torch.Tensor, onset_bits: torch.Tensor) -> torch.Tensor:
    """A note starts where the pitch changes, or where an onset bit repeats the same pitch;
    never on a rest. ``pitch`` is one-hot ``(B, V, T, C)`` with the rest class last."""
    same_as_before = (pitch[:, :, 1:] * pitch[:, :, :-1]).sum(dim=-1)
    changed = torch.cat([torch.ones_like(same_as_before[:, :, :1]), 1 - same_as_before], dim=2)
    sounding = 1 - pitch[..., -1]
    return sounding * (changed + onset_bits - changed * onset_bits)


class Critic(nn.Module):
    """Scores a window from per-step features: each voice's pitch embedding and height, its
    onsets, the chroma of the whole texture, the interval classes between every pair of voices,
    the position in the bar and, when conditioned, the window's mode; then convolutions over
    time down to one value per bar."""

    def __init__(self, config: MuseGANConfig) -> None:
        super().__init__()
        self.config = config
        v, e, c = config.n_voices, config.pitch_embedding, config.critic_channels
        self.pitch_embedding = nn.Linear(config.n_classes, e, bias=False)
        self.voice_embedding = nn.Parameter(torch.zeros(v, e))
        pairs = v * (v - 1) // 2
        n_features = v * e + pairs * 12 + 12 + 3 * v + 4
        n_features += pairs if config.critic_motion_features else 0
        n_features += 12 if config.critic_window_chroma else 0
        n_features += config.modes + config.critic_extra_features
        self.register_buffer("chroma_matrix", _chroma_matrix(config), persistent=False)
        self.register_buffer("height", _heights(config), persistent=False)
        self.register_buffer("pair_index", torch.triu_indices(v, v, offset=1), persistent=False)
        layers: list[nn.Module] = [nn.Conv1d(n_features, c, 3, padding=1), nn.LeakyReLU(0.2)]
        steps = config.steps_per_bar
        while steps > 1:
            layers += [nn.Conv1d(c, c, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            steps //= 2
        self.body = nn.Sequential(*layers)
        # One more channel: how much the windows of a small group differ (minibatch standard
        # deviation), so that a generator that writes the same thing every time is caught.
        self.bars = nn.Sequential(nn.Conv1d(c + 1, c, 3, padding=1), nn.LeakyReLU(0.2))
        self.score = nn.Linear(c, 1)

    def forward(
        self,
        pitch: torch.Tensor,
        onset: torch.Tensor,
        mode: torch.Tensor | None = None,
        extra: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``pitch`` one-hot ``(B, V, T, C)``, ``onset`` ``(B, V, T)``, for a
        mode-conditioned critic ``mode`` ``(B,)``, the ``extra`` per-step inputs
        ``(B, critic_extra_features, T)`` when it has them, and each step's position in its
        bar ``(B, T)`` (:func:`bar_positions`; by default bars of ``steps_per_bar`` from the
        first step) -> scores ``(B,)``: the mean of :meth:`bar_scores`."""
        return self.bar_scores(pitch, onset, mode, extra, positions).mean(dim=1)

    def bar_scores(
        self,
        pitch: torch.Tensor,
        onset: torch.Tensor,
        mode: torch.Tensor | None = None,
        extra: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The score of each ``steps_per_bar``-long stretch of the windows ``(B, T /
        steps_per_bar)``, each seeing the stretches around it; inputs as :meth:`forward`."""
        batch, _, steps, _ = pitch.shape
        embedded = self.pitch_embedding(pitch) + self.voice_embedding[None, :, None]
        chroma = pitch @ self.chroma_matrix  # (B, V, T, 12)
        intervals = _interval_classes(chroma, self.pair_index)  # (B, pairs, T, 12)
        sounding = 1 - pitch[..., -1]
        heights = pitch @ self.height
        if positions is None:
            positions = bar_positions(steps, self.config.steps_per_bar, device=pitch.device)
        meter = meter_features(positions, self.config.steps_per_bar // 4)
        per_step = [
            embedded.permute(0, 2, 1, 3).reshape(batch, steps, -1),
            intervals.permute(0, 2, 1, 3).reshape(batch, steps, -1),
            chroma.sum(dim=1),
            heights.transpose(1, 2),
            onset.transpose(1, 2),
            sounding.transpose(1, 2),
            meter.expand(batch, -1, -1),
        ]
        if self.config.critic_motion_features:
            moves = _parallel_perfect_motion(pitch, sounding, intervals, self.pair_index)
            per_step.append(moves.transpose(1, 2))
        if self.config.critic_window_chroma:
            texture = chroma.sum(dim=1)  # (B, T, 12)
            window = texture.sum(dim=1, keepdim=True) / (texture.sum(dim=(1, 2))[:, None, None] + 1)
            per_step.append(window.expand(-1, steps, -1))
        if self.config.modes:
            modes = _mode_one_hot(mode, self.config, pitch)
            per_step.append(modes[:, None].expand(-1, steps, -1))
        if self.config.critic_extra_features:
            per_step.append(extra.transpose(1, 2))
        features = self.body(torch.cat(per_step, dim=2).transpose(1, 2))  # (B, c, bars)
        features = self.bars(_with_group_spread(features, self.config.critic_group))
        return self.score(features.transpose(1, 2))[..., 0]


class VoiceLeadingFaults(nn.Module):
    """Counts, per window and bar, the two faults of part writing that the critic is slowest
    to learn: parallel perfect intervals (two voices moving together from a unison, fifth or
    octave to the same interval class) and melodic leaps larger than an octave, and with
    ``crossings`` also steps where a voice sounds above the voice written over it. Exact
    counts on one-hot input, differentiable through straight-through outputs, so the
    generator can be taught the rules directly."""

    def __init__(self, config: MuseGANConfig, crossings: bool = False) -> None:
        super().__init__()
        self.steps_per_bar = config.steps_per_bar
        v = config.n_voices
        self.register_buffer("chroma_matrix", _chroma_matrix(config), persistent=False)
        self.register_buffer("pair_index", torch.triu_indices(v, v, offset=1), persistent=False)
        self.register_buffer("leaps", _leap_matrix(config), persistent=False)
        self.crossings = crossings
        self.register_buffer("higher", _higher_matrix(config), persistent=False)

    def forward(self, pitch: torch.Tensor) -> torch.Tensor:
        """``pitch`` one-hot ``(B, V, T, C)`` -> faults per bar ``(B,)``."""
        sounding = 1 - pitch[..., -1]
        intervals = _interval_classes(pitch @ self.chroma_matrix, self.pair_index)
        parallels = _parallel_perfect_motion(pitch, sounding, intervals, self.pair_index)
        leaps = ((pitch[:, :, :-1] @ self.leaps) * pitch[:, :, 1:]).sum(dim=-1)
        faults = parallels.sum(dim=(1, 2)) + leaps.sum(dim=(1, 2))
        if self.crossings:
            faults = faults + _crossed_steps(pitch, self.higher).sum(dim=(1, 2))
        return faults / (pitch.shape[2] / self.steps_per_bar)


class TextureStatistics(nn.Module):
    """Statistics of a window's texture that a generator drifts on while its critic attends
    to other things: distinct pitch classes per bar, distinct pitches sounding per step
    (polyphony), note starts per beat, notes shorter than an eighth per beat, the share of
    sounding voice-steps on each of the 12 pitch classes and, with ``crossings``, the share
    of steps where two adjacent voices both sound and the lower one sounds above the upper
    (Bach crosses voices in about a fifth of his 4-bar windows; a generator that never does
    is told apart by that alone). Exact on one-hot input, differentiable through straight-through
    outputs, so the generator can be taught the data's averages."""

    def __init__(self, config: MuseGANConfig, crossings: bool = False) -> None:
        super().__init__()
        self.steps_per_bar = config.steps_per_bar
        self.register_buffer("chroma_matrix", _chroma_matrix(config), persistent=False)
        self.crossings = crossings
        self.register_buffer("higher", _higher_matrix(config), persistent=False)

    def forward(self, pitch: torch.Tensor, onset: torch.Tensor) -> torch.Tensor:
        """``pitch`` one-hot ``(B, V, T, C)``, ``onset`` ``(B, V, T)`` -> ``(B, 16)``, one
        more column with ``crossings``."""
        batch, voices, steps, _ = pitch.shape
        beats = steps / (self.steps_per_bar // 4)
        chroma = (pitch @ self.chroma_matrix).reshape(batch, voices, -1, self.steps_per_bar, 12)
        classes_per_bar = chroma.amax(dim=(1, 3)).sum(dim=-1).mean(dim=-1)
        sounding = 1 - pitch[..., -1]
        distinct = pitch[..., :-1].amax(dim=1).sum(dim=-1).sum(dim=-1)
        polyphony = distinct / sounding.amax(dim=1).sum(dim=-1).clamp(min=1)
        ends_next = onset[:, :, 1:] + 1 - sounding[:, :, 1:]  # a new note or silence follows
        short = (onset[:, :, :-1] * ends_next).sum(dim=(1, 2))
        onsets = onset.sum(dim=(1, 2))
        shares = chroma.sum(dim=(1, 2, 3)) / sounding.sum(dim=(1, 2)).clamp(min=1)[:, None]
        columns = [classes_per_bar, polyphony, onsets / beats, short / beats, *shares.T]
        if self.crossings:
            columns.append(_crossing_rate(pitch, self.higher))
        return torch.stack(columns, dim=1)


def _crossed_steps(pitch: torch.Tensor, higher: torch.Tensor) -> torch.Tensor:
    """``(B, V - 1, T)``: 1 where a voice sounds above the voice written over it (exact on
    one-hot input; rests are never higher)."""
    return ((pitch[:, :-1] @ higher) * pitch[:, 1:]).sum(dim=-1)


def _crossing_rate(pitch: torch.Tensor, higher: torch.Tensor) -> torch.Tensor:
    """``(B,)``: among steps where two adjacent voices both sound, the share where the lower
    voice sounds above the upper one (the evaluation's ``voice_crossing_rate``)."""
    sounding = 1 - pitch[..., -1]
    both = (sounding[:, :-1] * sounding[:, 1:]).sum(dim=(1, 2))
    return _crossed_steps(pitch, higher).sum(dim=(1, 2)) / both.clamp(min=1)


def voice_pitch_distribution(pitch: torch.Tensor) -> torch.Tensor:
    """How each voice's sounding steps spread over the pitches, pooled over a whole batch:
    one-hot ``(B, V, T, C)`` (rest last) -> ``(V, C - 1)``, each row summing to 1 (or 0
    for a voice that never sounds). A batch whose windows each keep to a few pitches, all
    the same ones, has a narrow distribution; per-window averages cannot see that."""
    counts = pitch[..., :-1].sum(dim=(0, 2))
    return counts / counts.sum(dim=-1, keepdim=True).clamp(min=1)


def bar_pitch_class_pairs(pitch: torch.Tensor, config: MuseGANConfig) -> torch.Tensor:
    """How often two pitch classes sound in the same bar, pooled over every bar of a batch:
    one-hot ``(B, V, T, C)`` (rest last) -> symmetric ``(12, 12)``; entry ``(i, j)`` is the
    share of bars where both sound, the diagonal the share where each sounds. A generator can
    match every voice's pitch distribution and still write F and F sharp in one bar three
    times as often as Bach; this sees it. Exact on one-hot input, differentiable through
    straight-through outputs."""
    batch, voices, steps, _ = pitch.shape
    chroma = pitch @ _chroma_matrix(config).to(pitch.device)
    bars = chroma.reshape(batch, voices, steps // config.steps_per_bar, config.steps_per_bar, 12)
    present = bars.amax(dim=(1, 3)).reshape(-1, 12)
    return present.T @ present / max(present.shape[0], 1)


def _mode_one_hot(
    mode: torch.Tensor | None, config: MuseGANConfig, like: torch.Tensor
) -> torch.Tensor:
    """``(B, modes)`` float one-hot of a conditioned model's modes."""
    if mode is None:
        raise ValueError("this model is conditioned on the mode: give each window's mode")
    return F.one_hot(mode, config.modes).to(like.dtype)


def _leap_matrix(config: MuseGANConfig) -> torch.Tensor:
    """``(C, C)``: 1 where going from one pitch to the other leaps more than an octave."""
    pitches = torch.arange(config.n_classes - 1)
    leaps = torch.zeros(config.n_classes, config.n_classes)
    leaps[:-1, :-1] = ((pitches[:, None] - pitches[None, :]).abs() > 12).float()
    return leaps


def _higher_matrix(config: MuseGANConfig) -> torch.Tensor:
    """``(C, C)``: 1 where the second pitch is higher than the first; rests are never higher."""
    pitches = torch.arange(config.n_classes - 1)
    higher = torch.zeros(config.n_classes, config.n_classes)
    higher[:-1, :-1] = (pitches[None, :] > pitches[:, None]).float()
    return higher


def _parallel_perfect_motion(
    pitch: torch.Tensor, sounding: torch.Tensor, intervals: torch.Tensor, pairs: torch.Tensor
) -> torch.Tensor:
    """``(B, pairs, T)``: at each step, how much both voices of a pair leave their previous
    pitch in the same direction while keeping the same perfect interval class (0 or 7
    semitones), as :func:`bachgan.theory.parallel_perfect_moves` defines it - differentiable
    (the direction is a constant factor), and exactly 1 or 0 on one-hot input."""
    held = (pitch[:, :, 1:] * pitch[:, :, :-1]).sum(dim=-1)
    moved = sounding[:, :, 1:] * sounding[:, :, :-1] * (1 - held)  # (B, V, T-1)
    perfect = intervals[..., [0, 7]]
    kept = (perfect[:, :, 1:] * perfect[:, :, :-1]).sum(dim=-1)  # (B, pairs, T-1)
    i, j = pairs
    height = pitch[..., :-1].detach().argmax(dim=-1)
    direction = torch.sign(height[:, :, 1:] - height[:, :, :-1])
    same_direction = (direction[:, i] == direction[:, j]).to(pitch.dtype)
    motion = kept * moved[:, i] * moved[:, j] * same_direction
    return torch.cat([torch.zeros_like(motion[..., :1]), motion], dim=-1)


def _with_group_spread(features: torch.Tensor, group: int) -> torch.Tensor:
    """Append the minibatch standard deviation over consecutive groups of ``group`` windows
    (the whole batch when it does not divide): ``(N, C, L)`` -> ``(N, C + 1, L)``."""
    n, channels, length = features.shape
    size = group if n % group == 0 else n
    grouped = features.reshape(n // size, size, channels, length)
    spread = (grouped.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=1, keepdim=True)
    spread = spread[:, None].expand(-1, size, -1, -1).reshape(n, 1, length)
    return torch.cat([features, spread], dim=1)


def _interval_classes(chroma: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """For each voice pair (i, j) and step, how much of each interval class (0..11 semitones,
    i above j modulo the octave) sounds: the circular cross-correlation of the two chroma
    vectors, computed with a 12-point FFT. ``chroma (B, V, T, 12)`` -> ``(B, pairs, T, 12)``."""
    spectrum = torch.fft.rfft(chroma, dim=-1)
    i, j = pairs
    return torch.fft.irfft(spectrum[:, i] * spectrum[:, j].conj(), n=12, dim=-1)


def _bar_convs(channels_in: int, channels_out: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(channels_in, channels_out, 3, padding=1, groups=groups),
        nn.LeakyReLU(0.2),
        nn.Conv1d(channels_out, channels_out, 3, padding=1, groups=groups),
        nn.LeakyReLU(0.2),
    )


class _GroupNormAct(nn.Sequential):
    def __init__(self, channels: int, groups: int = 8) -> None:
        super().__init__(nn.GroupNorm(groups, channels), nn.LeakyReLU(0.2))


def _range_mask(config: MuseGANConfig) -> torch.Tensor:
    """``(V, C)``: 0 inside each voice's range (and for the rest class), -1e4 outside."""
    mask = torch.full((config.n_voices, config.n_classes), -1e4)
    for voice, (low, high) in enumerate(config.voice_ranges):
        mask[voice, low : high + 1] = 0
    mask[:, -1] = 0
    return mask


def _chroma_matrix(config: MuseGANConfig) -> torch.Tensor:
    """``(C, 12)``: pitch class of each pitch index; the rest class has none."""
    matrix = torch.zeros(config.n_classes, 12)
    for index in range(config.n_classes - 1):
        matrix[index, (config.lowest_pitch + index) % 12] = 1
    return matrix


def _heights(config: MuseGANConfig) -> torch.Tensor:
    """``(C,)``: pitch height scaled to 0..1; the rest class sits at 0."""
    heights = torch.linspace(0, 1, config.n_classes - 1)
    return torch.cat([heights, torch.zeros(1)])


def bar_positions(
    steps: int,
    steps_per_bar: int | torch.Tensor,
    phase: int | torch.Tensor = 0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``(T,)`` long: the position in its bar of each of ``steps`` steps, in bars of
    ``steps_per_bar`` steps (16 in 4/4, 12 in 3/4), the first step at position ``phase``.
    With ``(B, 1)`` tensors of bar lengths and phases: ``(B, T)``, one row per window."""
    return (torch.arange(steps, device=device) + phase) % steps_per_bar


def meter_features(positions: torch.Tensor, steps_per_beat: int) -> torch.Tensor:
    """``(..., T, 4)`` for positions in the bar ``(..., T)``: whether each step is a
    downbeat, a beat, an eighth, a sixteenth (always)."""
    eighth = max(steps_per_beat // 2, 1)
    return torch.stack(
        [positions == 0, positions % steps_per_beat == 0, positions % eighth == 0, positions >= 0],
        dim=-1,
    ).float()

"""Every setting of a training run, its defaults and their validation, in one place.

A run's :class:`TrainConfig` is saved as ``config.json`` and inside each checkpoint;
:func:`saved_config` reads it back, filling in what older checkpoints did not record.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .errors import BachganError

__all__ = [
    "ARCH_DEFAULTS",
    "DEFAULT_STEPS",
    "MODEL_SIZES",
    "OLD_CHECKPOINT_DEFAULTS",
    "TrainConfig",
    "recorded_settings",
    "saved_config",
]

#: Generator steps of a run that sets neither ``steps`` nor ``minutes``.
DEFAULT_STEPS = 2000

#: Model sizes by name: ``default`` (the shipped chorale model) decides pitches per eighth note
#: and may split an eighth into two sixteenths; its critic also sees parallel perfect motion
#: and the window's pitch-class distribution. ``tiny`` (which decides every sixteenth) is for
#: smoke tests. The sizes tried and not kept are in docs/ABLATIONS.md.
MODEL_SIZES = {
    "default": {
        "generated_steps_per_bar": 8,
        "sixteenth_refinement": True,
        "critic_motion_features": True,
        "critic_window_chroma": True,
    },
    "tiny": {
        "channels": 16,
        "temporal_channels": 16,
        "critic_channels": 16,
        "pitch_embedding": 8,
        "z_global": 8,
        "z_bar": 8,
        "z_voice": 4,
        "z_voice_bar": 4,
    },
}

#: Per-architecture defaults for settings the user leaves out.
ARCH_DEFAULTS = {
    "musegan": {"batch_size": 32, "learning_rate": 3e-4, "betas": (0.5, 0.9)},
    "seed": {"batch_size": 10, "learning_rate": 2e-4, "betas": (0.5, 0.999)},
}

#: Settings that older checkpoints do not record, with the value those checkpoints were
#: trained with.
OLD_CHECKPOINT_DEFAULTS = {"mode_conditioning": False, "count_crossings": True}


@dataclass
class TrainConfig:
    """Every setting of a run; saved as ``config.json`` and inside each checkpoint."""

    data: str
    out: str
    arch: str = "musegan"
    steps: int | None = None
    minutes: float | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    betas: tuple[float, float] | None = None
    n_critic: int = 3
    gp_lambda: float = 10.0
    ema_decay: float = 0.999
    bars: int = 4
    normalize_key: bool = True
    transpose: int = 0
    #: Weight of the generator's penalty for parallel fifths/octaves and leaps over an octave
    #: (faults per bar; musegan only). 0 leaves the generator to the critic alone.
    voice_leading_weight: float = 2.0
    #: Count steps where a voice sounds above the voice written over it among those faults;
    #: off, the texture term matches the data's crossing rate instead.
    count_crossings: bool = False
    #: Weight of the generator's penalty for straying from the training data's average pitch
    #: classes per bar, polyphony, note starts per beat, short notes per beat and share of
    #: each pitch class (Huber distance of the batch mean, in the data's standard deviations;
    #: musegan only). 0 turns it off.
    texture_weight: float = 0.3
    #: Weight of the generator's penalty for a batch whose voices spread over fewer (or
    #: other) pitches than the training data's (total variation distance of each voice's
    #: pitch distribution pooled over the batch and over every training window; musegan
    #: only). 0 turns it off.
    pitch_distribution_weight: float = 3.0
    #: Weight of the generator's penalty for pitch classes that share a bar more (or less)
    #: often than in the training data, such as F and F sharp (half the summed absolute
    #: difference of the two pair matrices; musegan only). 0 turns it off.
    pitch_class_pairs_weight: float = 0.3
    #: Condition generator and critic on each window's mode (major or minor, estimated from
    #: its pitch classes), so that a window is clearly in one or the other; ``bachgan
    #: generate --mode`` can then ask for either (musegan only).
    mode_conditioning: bool = True
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 200
    log_every: int = 10
    eval_every: int = 100
    threads: int | None = None
    model_size: str = "default"

    def __post_init__(self) -> None:
        for name, value in ARCH_DEFAULTS.get(self.arch, {}).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.steps is None and self.minutes is None:
            self.steps = DEFAULT_STEPS
        self.betas = tuple(self.betas) if self.betas is not None else None

    def validate(self) -> None:
        """Raise :class:`BachganError` for a setting no run can use."""
        if self.arch not in ARCH_DEFAULTS:
            raise BachganError(
                f"unknown arch {self.arch!r}; choose from {', '.join(ARCH_DEFAULTS)}"
            )
        if self.model_size not in MODEL_SIZES:
            raise BachganError(f"unknown model size {self.model_size!r}")
        if (self.steps is not None and self.steps < 1) or (
            self.minutes is not None and self.minutes <= 0
        ):
            raise BachganError("--steps and --minutes must be more than 0")
        for weight in (
            "voice_leading_weight",
            "texture_weight",
            "pitch_distribution_weight",
            "pitch_class_pairs_weight",
        ):
            if getattr(self, weight) < 0:
                flag = "--" + weight.replace("_", "-")
                raise BachganError(f"{flag} must be 0 or more: a negative weight rewards the fault")

    def model_signature(self) -> dict:
        """The settings a checkpoint must share with a run that resumes it."""
        return {
            "arch": self.arch,
            "bars": self.bars,
            "normalize_key": self.normalize_key,
            "transpose": self.transpose,
            "model_size": self.model_size,
            "mode_conditioning": self.mode_conditioning,
        }


def recorded_settings(train_config: dict) -> dict:
    """A checkpoint's training settings, with :data:`OLD_CHECKPOINT_DEFAULTS` for those it
    does not record."""
    return {**OLD_CHECKPOINT_DEFAULTS, **train_config}


def saved_config(train_config: dict) -> TrainConfig:
    """The :class:`TrainConfig` stored in a checkpoint (:func:`recorded_settings`); settings
    this version no longer knows are ignored."""
    known = {f.name for f in fields(TrainConfig)}
    values = recorded_settings(train_config)
    return TrainConfig(**{k: v for k, v in values.items() if k in known})

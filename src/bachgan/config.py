"""Every setting of a training run, its defaults and their validation, in one place.

A run's :class:`TrainConfig` is saved as ``config.json`` and inside each checkpoint;
:func:`saved_config` reads it back, filling in what older checkpoints did not record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import BachganError

__all__ = [
    "ARCH_DEFAULTS",
    "COMPLETION_SIZES",
    "DEFAULT_STEPS",
    "LEARNABLE_METERS",
    "MODEL_SIZES",
    "OLD_CHECKPOINT_DEFAULTS",
    "PRESETS",
    "TrainConfig",
    "option",
    "preset_settings",
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

#: Sizes of the conditional completion model (``arch="completion"``) by the same names.
COMPLETION_SIZES = {
    "default": {},
    "tiny": {
        "channels": 16,
        "pitch_embedding": 8,
        "z_channels": 4,
        "critic_channels": 16,
        "dilations": (1, 2, 4, 8),
    },
}

#: Sizes of the sequential model (``arch="sequential"``) by the same names.
SEQUENTIAL_SIZES = {
    "default": {},
    "tiny": {
        "channels": 16,
        "pitch_embedding": 8,
        "recurrent": 16,
        "head": 16,
        "critic_channels": 16,
        "dilations": (1, 2, 4, 8),
    },
}

#: Per-architecture defaults for settings the user leaves out.
ARCH_DEFAULTS = {
    "completion": {
        "batch_size": 32,
        "learning_rate": 3e-4,
        "betas": (0.5, 0.9),
        "n_critic": 2,
        "meters": ("4/4", "3/4"),
    },
    "sequential": {
        "batch_size": 32,
        "learning_rate": 1e-3,
        "betas": (0.9, 0.99),
        "n_critic": 1,
        "meters": ("4/4", "3/4"),
    },
    "musegan": {
        "batch_size": 32,
        "learning_rate": 3e-4,
        "betas": (0.5, 0.9),
        "n_critic": 3,
        "meters": ("4/4",),
    },
    "seed": {
        "batch_size": 10,
        "learning_rate": 2e-4,
        "betas": (0.5, 0.999),
        "n_critic": 1,
        "meters": ("4/4",),
    },
}
#: The meters a chorale model can learn: its bars are whole quarters, at most four.
LEARNABLE_METERS = ("4/4", "3/4", "2/4")

#: Settings that older checkpoints do not record, with the value those checkpoints were
#: trained with.
OLD_CHECKPOINT_DEFAULTS = {
    "mode_conditioning": False,
    "count_crossings": True,
    "meters": ("4/4",),
}


def _meter_list(text: str) -> tuple[str, ...]:
    """``"4/4,3/4"`` -> ``("4/4", "3/4")``: meters as ``--meters`` takes them."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def option(help: str, type: type | None = None, choices: tuple = ()) -> dict:
    """Field metadata that makes a setting a ``bachgan train`` option (its flag is the
    field's name with dashes; ``type`` for settings whose default is ``None``)."""
    return {"help": help, "type": type, "choices": choices}


@dataclass
class TrainConfig:
    """Every setting of a run; saved as ``config.json`` and inside each checkpoint.

    Settings with :func:`option` metadata are ``bachgan train`` options; the others are
    research settings, set by a ``--preset`` file (:data:`PRESETS`).
    """

    data: str = field(metadata=option("data set from `bachgan prepare`"))
    out: str = field(metadata=option("run folder"))
    arch: str = field(
        default="completion",
        metadata=option(
            "the conditional chorale model (completion), the one that writes a sixteenth at a "
            "time (sequential), the unconditional one (musegan) or "
            "the article's DCGAN (seed)",
            choices=tuple(ARCH_DEFAULTS),
        ),
    )
    steps: int | None = field(
        default=None, metadata=option(f"generator steps to train (default {DEFAULT_STEPS})", int)
    )
    minutes: float | None = field(
        default=None, metadata=option("wall-clock minutes to train, instead of --steps", float)
    )
    batch_size: int | None = field(
        default=None, metadata=option("windows per batch (chorale models 32, seed 10)", int)
    )
    learning_rate: float | None = field(
        default=None,
        metadata=option("Adam learning rate (chorale models 3e-4, seed 2e-4)", float),
    )
    betas: tuple[float, float] | None = None
    #: Critic steps per generator step (completion 2, musegan 3; the seed DCGAN's loop has
    #: its own).
    n_critic: int | None = None
    #: The time signatures of the pieces trained on (completion: 4/4 and 3/4; the musegan
    #: model's bars are 4/4 by construction); pieces in others are skipped and counted.
    meters: tuple[str, ...] | None = field(
        default=None,
        metadata=option(
            f"the meters to learn, e.g. 2/4 or 4/4,3/4 (any of {', '.join(LEARNABLE_METERS)}; "
            "default: 4/4,3/4 for the completion model, 4/4 for the others)",
            _meter_list,
        ),
    )
    init_from: str | None = field(
        default=None,
        metadata=option(
            "start from the weights of this checkpoint or model (.pt) instead of random ones: "
            "fine-tune it on --data",
            str,
        ),
    )
    gp_lambda: float = 10.0
    ema_decay: float = 0.999
    bars: int = 4
    normalize_key: bool = field(
        default=True,
        metadata=option("put every piece in C major / A minor (--no-normalize-key: own keys)"),
    )
    transpose: int = field(
        default=0, metadata=option("random transposition of up to this many semitones")
    )
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
    #: Weight of the completion model's reconstruction loss: cross-entropy of the generated
    #: cells' pitches and onsets against the masked-out real ones (completion only).
    reconstruction_weight: float = 10.0
    #: Weight of the completion model's adversarial loss. 0 trains it without a critic, on
    #: the reconstruction alone: the ablation that shows what the critic adds.
    adversarial_weight: float = 1.0
    #: Condition generator and critic on each window's mode (major or minor, estimated from
    #: its pitch classes), so that a window is clearly in one or the other; ``bachgan
    #: generate --mode`` can then ask for either (musegan only).
    mode_conditioning: bool = True
    seed: int = field(default=0, metadata=option("random seed"))
    device: str = field(default="cpu", metadata=option("cpu or cuda"))
    checkpoint_every: int = field(default=200, metadata=option("steps between checkpoints"))
    log_every: int = 10
    eval_every: int = 100
    threads: int | None = field(
        default=None, metadata=option("CPU threads (default: all cores)", int)
    )
    model_size: str = field(
        default="default",
        metadata=option(
            "default: the shipped model's sizes; tiny is for smoke runs",
            choices=tuple(MODEL_SIZES),
        ),
    )

    def __post_init__(self) -> None:
        for name, value in ARCH_DEFAULTS.get(self.arch, {}).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.steps is None and self.minutes is None:
            self.steps = DEFAULT_STEPS
        self.betas = tuple(self.betas) if self.betas is not None else None
        self.meters = tuple(self.meters) if self.meters is not None else None

    def validate(self) -> None:
        """Raise :class:`BachganError` for a setting no run can use."""
        if self.arch not in ARCH_DEFAULTS:
            raise BachganError(
                f"unknown arch {self.arch!r}; choose from {', '.join(ARCH_DEFAULTS)}"
            )
        if self.model_size not in MODEL_SIZES:
            raise BachganError(f"unknown model size {self.model_size!r}")
        unknown = sorted(set(self.meters or ()) - set(LEARNABLE_METERS))
        if unknown:
            raise BachganError(
                f"cannot train on meters {', '.join(unknown)}; choose from "
                f"{', '.join(LEARNABLE_METERS)}"
            )
        if self.arch not in ("completion", "sequential") and self.meters not in (None, ("4/4",)):
            raise BachganError(f"the {self.arch} model learns 4/4 only")
        if self.steps is not None and self.minutes is not None:
            raise BachganError("give --steps or --minutes, not both")
        if (self.steps is not None and self.steps < 1) or (
            self.minutes is not None and self.minutes <= 0
        ):
            raise BachganError("--steps and --minutes must be more than 0")
        for weight in (
            "voice_leading_weight",
            "texture_weight",
            "pitch_distribution_weight",
            "pitch_class_pairs_weight",
            "reconstruction_weight",
            "adversarial_weight",
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
            "meters": self.meters,
        }

    def time_signatures(self) -> tuple[tuple[int, int], ...]:
        """:attr:`meters` as ``(numerator, denominator)`` pairs."""
        return tuple(tuple(int(x) for x in meter.split("/")) for meter in self.meters)


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


#: Named settings files for ``bachgan train --preset NAME`` (or a path to such a JSON file).
PRESETS = Path(__file__).parent / "presets"


def preset_settings(name_or_path: str) -> dict:
    """The settings of a preset: a name in :data:`PRESETS` or a JSON file of
    :class:`TrainConfig` fields."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESETS / f"{name_or_path}.json"
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        names = ", ".join(sorted(p.stem for p in PRESETS.glob("*.json")))
        raise BachganError(f"cannot read preset {name_or_path} ({names} are shipped)") from error
    if not isinstance(settings, dict):
        raise BachganError(f"preset {name_or_path} is not a JSON object of settings")
    unknown = sorted(set(settings) - {f.name for f in fields(TrainConfig)} - {"data", "out"})
    if unknown:
        raise BachganError(f"preset {name_or_path}: unknown settings {', '.join(unknown)}")
    return settings

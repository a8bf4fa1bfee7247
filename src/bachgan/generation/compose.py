"""From generator output to music: binarization and decoding into rolls."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ..config import recorded_settings
from ..encoding import Encoding, decode, move_from_c
from ..errors import BachganError
from ..io.checkpoint import load_checkpoint
from ..limits import (
    MAX_BARS,
    MAX_CANDIDATES,
    MAX_PIECES,
    check_count,
    check_temperature,
    check_tempo,
)
from ..models.conditional import (
    CompletionConfig,
    CompletionGenerator,
    closing_steps,
    completion_critic,
    critic_extra,
)
from ..models.musegan import (
    Critic,
    GeneratorOutput,
    MuseGANConfig,
    MuseGANGenerator,
    Noise,
    bar_positions,
    critic_input,
)
from ..roll import VOICE_NAMES, Roll
from ..theory import parse_key, parse_meter
from ..training.windows import window_keys
from .binarize import DEFAULT_BINARIZATION, DEFAULT_RULES, DecodingRules, decode_output
from .completion import Revisions, compose_chorales

__all__ = [
    "CHORALE_ARCHITECTURES",
    "DEFAULT_REVISIONS",
    "KEY_MODES",
    "KEY_RETRIES",
    "LoadedModel",
    "compute_threads",
    "decoding_rules",
    "fermata_steps",
    "generate",
    "hold_final_chord",
    "load_model",
    "meter_bar_steps",
    "model_from_checkpoint",
    "pretrained_path",
    "seed_compositions",
]

#: The chorale models by ``arch``: their sizes, generator and critic.
CHORALE_ARCHITECTURES = {
    "completion": (CompletionConfig, CompletionGenerator, completion_critic),
    "musegan": (MuseGANConfig, MuseGANGenerator, Critic),
}
#: How a completion model revises what it composes, unless asked otherwise.
DEFAULT_REVISIONS = Revisions()
#: The modes a mode-conditioned model writes in, by index.
KEY_MODES = ("major", "minor")
#: How many more times a piece that came out in another key than asked is composed
#: (:func:`generate`).
KEY_RETRIES = 8
#: Bars of samples that one pass of the generator or critic handles (the shipped model needs
#: about 1.5 MB per bar), so that long pieces and many candidates keep memory bounded.
_BARS_PER_PASS = 256


@dataclass
class LoadedModel:
    """A trained chorale generator ready to sample: EMA weights, its encoding and sizes; a
    conditional (``completion``) or an unconditional (``musegan``) one."""

    generator: MuseGANGenerator | CompletionGenerator
    encoding: Encoding
    config: MuseGANConfig | CompletionConfig
    step: int
    source: str
    critic: Critic | None = None
    #: The costs :func:`generate` decodes this model with (``voice-leading``).
    rules: DecodingRules = DEFAULT_RULES
    #: The settings it was trained with, and for how long.
    train_config: dict = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    #: Where each voice usually sings (MIDI pitch by voice index), worked out once when a
    #: melody is first fitted to it (:func:`bachgan.generation.harmonize.voice_centre`).
    voice_centres: dict[int, float] = field(default_factory=dict)

    @property
    def completes(self) -> bool:
        """Whether this is the conditional model, which completes partly given chorales."""
        return isinstance(self.generator, CompletionGenerator)

    @property
    def meters(self) -> tuple[int, ...]:
        """The meters it writes in, as quarters per bar (a musegan model's bars are 4/4)."""
        return self.config.meters if self.completes else (4,)


def meter_bar_steps(loaded: LoadedModel, time_signature: tuple[int, int] | str) -> int:
    """The steps in a bar of ``time_signature`` (``(3, 4)`` or ``"3/4"``) for a model that
    has learned that meter; a :class:`BachganError` names those it knows otherwise."""
    if isinstance(time_signature, str):
        try:
            time_signature = parse_meter(time_signature)
        except ValueError as error:
            raise BachganError(str(error)) from None
    numerator, denominator = time_signature
    if denominator != 4 or numerator not in loaded.meters:
        known = " and ".join(f"{beats}/4" for beats in loaded.meters)
        raise BachganError(
            f"the model writes in {known}, not {numerator}/{denominator} "
            f"({Path(loaded.source).name})"
        )
    return numerator * loaded.encoding.resolution


def load_model(path: str | os.PathLike | None = None, device: str = "cpu") -> LoadedModel:
    """Load the generator of a ``completion`` or ``musegan`` checkpoint (a .pt file or a run
    folder); without a path, the pretrained chorale model shipped with the package."""
    path = Path(path) if path is not None else pretrained_path()
    return model_from_checkpoint(load_checkpoint(path, device), str(path), device)


def model_from_checkpoint(checkpoint: dict, source: str, device: str = "cpu") -> LoadedModel:
    """The chorale generator held by a loaded ``completion`` or ``musegan`` checkpoint that
    came from ``source``; a checkpoint that does not make a working model is a
    :class:`BachganError`."""
    if checkpoint.get("arch") not in CHORALE_ARCHITECTURES:
        raise BachganError(
            f"{source} holds a {checkpoint.get('arch')!r} model, not a chorale model "
            f"({' or '.join(CHORALE_ARCHITECTURES)})"
        )
    try:
        loaded = _build_model(checkpoint, source, device)
        _write_one_bar(loaded)
    except Exception as error:  # a crafted or foreign file can break the model anywhere
        raise BachganError(
            f"{source} is not a compatible bachgan model ({type(error).__name__}: {error})"
        ) from error
    return loaded


def _build_model(checkpoint: dict, source: str, device: str) -> LoadedModel:
    config_class, generator_class, critic_class = CHORALE_ARCHITECTURES[checkpoint["arch"]]
    config = config_class.from_dict(checkpoint["model_config"])
    generator = generator_class(config)
    generator.load_state_dict(checkpoint["ema"])
    encoding = Encoding.from_dict(checkpoint["encoding"])
    if encoding.n_voices != config.n_voices:
        raise ValueError("the encoding and the model disagree on the number of voices")
    critic = None
    if "critic" in checkpoint:
        critic = critic_class(config)
        critic.load_state_dict(checkpoint["critic"])
        critic = critic.eval().to(device)
    train_config = dict(checkpoint.get("train_config", {}))
    return LoadedModel(
        generator.eval().to(device),
        encoding,
        config,
        int(checkpoint["step"]),
        source,
        critic,
        decoding_rules(train_config),
        train_config,
        float(checkpoint.get("elapsed_seconds", 0.0)),
    )


def _write_one_bar(loaded: LoadedModel) -> None:
    """Generate and decode one bar, so that a model whose stored sizes do not work together
    fails on loading rather than in the middle of a request."""
    rng = torch.Generator().manual_seed(0)
    if loaded.completes:
        mode = torch.zeros(1, dtype=torch.long) if loaded.config.modes else None
        pitch, onset = compose_chorales(
            loaded.generator, 1, loaded.config.steps_per_bar, mode, Revisions(rounds=1), rng
        )
        decode(pitch[0].numpy(), onset[0].numpy(), loaded.encoding)
        return
    device = next(loaded.generator.parameters()).device
    with torch.no_grad():
        output = loaded.generator(Noise.sample(loaded.config, 1, 1, generator=rng).to(device))
    decode_output(output, loaded.encoding)


def decoding_rules(train_config: dict) -> DecodingRules:
    """The voice-leading decoding's costs for a model trained with ``train_config``: one
    taught the data's rate of voice crossings (``count_crossings`` off) keeps its crossings;
    one trained to avoid every crossing has them banned."""
    if recorded_settings(train_config)["count_crossings"]:
        return DEFAULT_RULES
    return replace(DEFAULT_RULES, crossing_cost=0.0)


def seed_compositions(checkpoint: dict, n: int = 1, seed: int = 0, source: str = "") -> np.ndarray:
    """Images from a loaded seed-DCGAN checkpoint, the article's way: ``(n, 106, 106)``
    uint8, the generator's output times 255."""
    from ..models import SeedConfig, SeedGenerator

    check_count("pieces", n, MAX_PIECES)
    try:
        generator = SeedGenerator(SeedConfig.from_dict(checkpoint["model_config"]))
        generator.load_state_dict(checkpoint["generator"])
    except Exception as error:  # a crafted or foreign file can break the model anywhere
        raise BachganError(
            f"{source} is not a compatible seed model ({type(error).__name__}: {error})"
        ) from error
    latent = torch.randn(n, generator.config.latent, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # a few images per pass: the article's generator needs 200 MB each
        images = torch.cat([generator.eval()(part)[:, 0] for part in latent.split(4)])
    return (images.numpy() * 255).astype(np.uint8)


@contextmanager
def compute_threads(threads: int) -> Iterator[None]:
    """Run the model work of the calling thread on ``threads`` cores inside the block, and
    restore the setting after it.

    The setting belongs to the thread that makes it (OpenMP's thread count is per thread),
    so a server uses this in each thread that serves requests. Measured on a 2-core CPU:
    composing 16 bars takes 0.3 s with 1 or 2 threads from the main thread, but 0.8-1.0 s
    with 2 threads from a second thread (its team and the main thread's waiting team compete
    for the cores) and 0.35 s with 1.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pretrained_path(name: str = "chorales") -> Path:
    """A model shipped inside the package: ``chorales`` (the default model, a completion
    model) or ``musegan`` (the earlier unconditional model, kept as a baseline)."""
    return Path(__file__).parent.parent / "pretrained" / f"{name}.pt"


def generate(
    n: int = 1,
    bars: int = 4,
    seed: int = 0,
    model: LoadedModel | str | os.PathLike | None = None,
    sampling: str = DEFAULT_BINARIZATION,
    temperature: float = 1.0,
    tempo_bpm: float = 80.0,
    final_chord: bool = True,
    candidates: int = 1,
    key_mode: str | None = None,
    revisions: Revisions = DEFAULT_REVISIONS,
    key: str | None = None,
    phrases: Sequence[int] = (),
    meter: str | tuple[int, int] = (4, 4),
) -> list[Roll]:
    """Generate ``n`` new four-voice pieces of ``bars`` bars (any number: the model is
    convolutional over bars) in ``meter`` (``"3/4"``: one the model has learned). The same
    ``seed`` gives the same pieces.

    A ``completion`` model completes an empty chorale and revises it (``revisions``; with
    ``sampling="sample"`` its cells are drawn at ``temperature`` instead of taking the most
    likely pitch); a ``musegan`` model writes every voice in one pass, binarized as
    ``sampling`` says.

    A mode-conditioned model is asked for ``key_mode`` (``"major"`` or ``"minor"``) for every
    piece, or without it for either, as often as its training data had it; a completion
    model's piece whose best-fitting key is not the asked mode's (C major, A minor) is
    composed again (:data:`KEY_RETRIES`).
    With ``key`` (``"D major"``, ``"F# minor"``) the pieces are asked for its mode and written
    in that key, whose signature they carry; without it they are in C major or A minor.

    A completion model closes a phrase (a cadence, usually a held chord) in each bar of
    ``phrases`` (counted from 1) and in the last bar, and marks each close with a fermata.
    With ``final_chord`` the last bar holds the chord of its downbeat, so a piece ends instead
    of stopping. With ``candidates`` > 1 and a model that carries its critic, each piece is the
    one the critic scores highest among that many samples (discriminator rejection sampling).
    """
    check_count("pieces", n, MAX_PIECES)
    check_count("bars", bars, MAX_BARS)
    check_count("candidates", candidates, MAX_CANDIDATES)
    tempo_bpm = check_tempo(tempo_bpm)
    if sampling == "sample":
        check_temperature(temperature)
    fifths, key_mode = _asked_key(key, key_mode)
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    bar_steps = meter_bar_steps(loaded, meter)
    rng = torch.Generator().manual_seed(seed)
    time_signature = (bar_steps // loaded.encoding.resolution, 4)
    meta = {"tempo_bpm": tempo_bpm, "key_fifths": 0, "time_signature": time_signature}
    closes = _closing_bars(phrases, bars, loaded)
    if loaded.completes:
        if sampling == "sample":
            revisions = replace(revisions, temperature=temperature)
        shape = _Shape(n, bars, bar_steps, candidates)
        codes = _composed(loaded, shape, key_mode, revisions, rng, closes)
        rolls = [
            decode(p, o, loaded.encoding, VOICE_NAMES, key_mode=m, **meta)
            for p, o, m in zip(*codes, strict=True)
        ]
    else:
        rolls = _musegan_pieces(
            loaded, n, bars, candidates, key_mode, rng, meta, sampling, temperature
        )
    rolls = [hold_final_chord(roll) if final_chord else roll for roll in rolls]
    if loaded.completes:
        rolls = [replace(roll, fermatas=fermata_steps(roll, closes)) for roll in rolls]
    if fifths is None:
        return rolls
    return [
        replace(move_from_c(roll, fifths), key_fifths=fifths, key_mode=key_mode) for roll in rolls
    ]


def _closing_bars(phrases: Sequence[int], bars: int, loaded: LoadedModel) -> list[int]:
    """The bars (from 0) where phrases close: those asked for (from 1) and the last."""
    if phrases and not loaded.completes:
        raise BachganError(f"{loaded.source} cannot place phrases: it is not a completion model")
    outside = [bar for bar in phrases if not 1 <= bar <= bars]
    if outside:
        raise BachganError(f"phrase ends {outside} are outside the piece's bars 1-{bars}")
    return sorted({bar - 1 for bar in phrases} | {bars - 1})


def fermata_steps(roll: Roll, bars: Sequence[int]) -> tuple[int, ...]:
    """Where the fermata of each closing bar (from 0) stands: on the last chord that starts
    in that bar (its first step when nothing starts there)."""
    starts = roll.onsets.any(axis=(0, 2))
    steps = []
    for bar in bars:
        first = bar * roll.steps_per_bar
        struck = np.flatnonzero(starts[first : first + roll.steps_per_bar])
        steps.append(first + int(struck[-1]) if struck.size else first)
    return tuple(steps)


def _asked_key(key: str | None, key_mode: str | None) -> tuple[int | None, str | None]:
    """The key signature and mode that ``key`` names (``None`` and ``key_mode`` without it)."""
    if key is None:
        return None, key_mode
    try:
        fifths, mode = parse_key(key)
    except ValueError as error:
        raise BachganError(str(error)) from None
    if key_mode is not None and key_mode != mode:
        raise BachganError(f"--key {key} is not in {key_mode}")
    return fifths, mode


def _musegan_pieces(
    loaded: LoadedModel,
    n: int,
    bars: int,
    candidates: int,
    key_mode: str | None,
    rng: torch.Generator,
    meta: dict,
    sampling: str,
    temperature: float,
) -> list[Roll]:
    """``n`` pieces of a musegan model, binarized as ``sampling`` says."""
    device = next(loaded.generator.parameters()).device
    noise = Noise.sample(loaded.config, n * candidates, bars, generator=rng).to(device)
    if key_mode is not None:
        index = _mode_index(key_mode, loaded)
        noise.mode = torch.full((n * candidates,), index, dtype=torch.long, device=device)
    with torch.no_grad():
        output = _generate_in_passes(loaded.generator, noise, bars)
        if candidates > 1 and loaded.critic is not None:
            output = _best_candidates(output, noise.mode, loaded.critic, n, candidates, bars)
        elif candidates > 1:
            output = GeneratorOutput(output.pitch_logits[:n], output.onset_logits[:n])
    return decode_output(output, loaded.encoding, sampling, temperature, rng, loaded.rules, **meta)


@dataclass(frozen=True)
class _Shape:
    """What a request asks for: ``n`` pieces of ``bars`` bars of ``bar_steps`` steps, each
    the critic's choice among ``candidates``."""

    n: int
    bars: int
    bar_steps: int
    candidates: int


def _composed(
    loaded: LoadedModel,
    shape: _Shape,
    key_mode: str | None,
    revisions: Revisions,
    rng: torch.Generator,
    closes: list[int],
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """The chorales of a completion model as ``(pitch, onset)`` codes ``(n, V, T)``, with
    phrases closing in the bars ``closes`` (from 0), each the critic's favourite among the
    candidates when there are more than one, and each one's mode (``None`` for a model
    without modes)."""
    n, bars, candidates = shape.n, shape.bars, shape.candidates
    batch, config = n * candidates, loaded.config
    mode = None
    if config.modes:
        drawn = (torch.rand(batch, generator=rng) < config.minor_share).long()
        mode = drawn if key_mode is None else torch.full_like(drawn, _mode_index(key_mode, loaded))
    elif key_mode is not None:
        _mode_index(key_mode, loaded)
    steps = bars * shape.bar_steps
    compose = partial(_compose, loaded, shape, revisions=revisions, rng=rng, closes=closes)
    if mode is None:
        pitch, onset = compose(batch, None)
    else:
        pitch, onset = _in_their_keys(compose, mode, loaded.encoding)
    chosen = torch.arange(n)
    if candidates > 1 and loaded.critic is not None:
        ending = closing_steps(steps, shape.bar_steps, closes)
        chosen = _critics_choice(loaded, pitch, onset, mode, ending, shape)
    modes = [None] * n if mode is None else [KEY_MODES[m] for m in mode[chosen].tolist()]
    return pitch[chosen].numpy(), onset[chosen].numpy(), modes


def _compose(
    loaded: LoadedModel,
    shape: _Shape,
    count: int,
    mode: torch.Tensor | None,
    revisions: Revisions,
    rng: torch.Generator,
    closes: list[int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` chorales of ``shape``'s length and meter, in passes of bounded memory."""
    parts = [
        compose_chorales(
            loaded.generator,
            len(range(count)[part]),
            shape.bars * shape.bar_steps,
            _part(mode, part),
            revisions,
            rng,
            closes,
            shape.bar_steps,
        )
        for part in _passes(count, shape.bars)
    ]
    return torch.cat([p for p, _ in parts]), torch.cat([o for _, o in parts])


def _in_their_keys(
    compose: Callable[[int, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    mode: torch.Tensor,
    encoding: Encoding,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chorales from ``compose(count, mode)``, each in the key of the ``mode`` it was asked
    for (C major, A minor): a piece whose best-fitting key
    (:func:`~bachgan.training.windows.window_keys`) is another is composed again, up to
    :data:`KEY_RETRIES` times (the last try is kept)."""
    asked = torch.where(mode == KEY_MODES.index("minor"), 21, 0)
    pitch, onset = compose(len(mode), mode)
    for _ in range(KEY_RETRIES):
        wrong = torch.nonzero(window_keys(pitch, encoding) != asked).flatten()
        if not len(wrong):
            break
        pitch[wrong], onset[wrong] = compose(len(wrong), mode[wrong])
    return pitch, onset


def _part(mode: torch.Tensor | None, part: slice) -> torch.Tensor | None:
    return None if mode is None else mode[part]


@torch.no_grad()
def _critics_choice(
    loaded: LoadedModel,
    pitch: torch.Tensor,
    onset: torch.Tensor,
    mode: torch.Tensor | None,
    ending: torch.Tensor,
    shape: _Shape,
) -> torch.Tensor:
    """Indices of the candidate the critic scores highest for each of the pieces, whose
    phrases close on the ``ending`` steps ``(T,)``."""
    n, candidates = shape.n, shape.candidates
    positions = bar_positions(pitch.shape[2], shape.bar_steps)
    scores = torch.cat(
        [
            loaded.critic(
                F.one_hot(pitch[part], loaded.config.n_classes).float(),
                onset[part].float(),
                _part(mode, part),
                critic_extra(
                    torch.ones(pitch[part].shape), ending[None].expand(len(pitch[part]), -1)
                ),
                positions,
            )
            for part in _passes(len(pitch), shape.bars)
        ]
    ).view(n, candidates)
    return scores.argmax(dim=1) + torch.arange(n) * candidates


def _mode_index(key_mode: str, loaded: LoadedModel) -> int:
    """0 for ``"major"``, 1 for ``"minor"``, for a model conditioned on the mode."""
    if key_mode not in KEY_MODES:
        raise BachganError(f"unknown mode {key_mode!r}; choose from {', '.join(KEY_MODES)}")
    if not loaded.config.modes:
        raise BachganError(
            f"{loaded.source} was trained without --mode-conditioning, so it cannot be asked "
            "for a mode"
        )
    return KEY_MODES.index(key_mode)


def _passes(batch: int, bars: int) -> list[slice]:
    """The batch cut into slices of at most :data:`_BARS_PER_PASS` bars in all (one sample at
    least), so that memory stays bounded however many or long the pieces."""
    size = max(1, _BARS_PER_PASS // bars)
    return [slice(start, min(start + size, batch)) for start in range(0, batch, size)]


def _generate_in_passes(generator: MuseGANGenerator, noise: Noise, bars: int) -> GeneratorOutput:
    outputs = [generator(noise.pick(part)) for part in _passes(len(noise.global_), bars)]
    return GeneratorOutput(
        torch.cat([o.pitch_logits for o in outputs]), torch.cat([o.onset_logits for o in outputs])
    )


def _best_candidates(
    output: GeneratorOutput,
    mode: torch.Tensor | None,
    critic: Critic,
    n: int,
    candidates: int,
    bars: int,
) -> GeneratorOutput:
    """Keep, for each of the ``n`` pieces, the candidate with the highest critic score."""
    pitch, onset = output.pitch_logits, output.onset_logits
    scores = torch.cat(
        [
            critic(
                *critic_input(GeneratorOutput(pitch[part], onset[part])),
                None if mode is None else mode[part],
            )
            for part in _passes(len(pitch), bars)
        ]
    ).view(n, candidates)
    best = scores.argmax(dim=1) + torch.arange(n, device=scores.device) * candidates
    return GeneratorOutput(output.pitch_logits[best], output.onset_logits[best])


def hold_final_chord(roll: Roll) -> Roll:
    """Replace the last bar by the chord sounding at its downbeat, held for the whole bar; a
    voice that rests on that downbeat holds the last note it sang before it."""
    start = roll.n_steps - roll.steps_per_bar
    if start < 0:
        return roll
    sounding, onsets = roll.sounding.copy(), roll.onsets.copy()
    chord = sounding[:, start].copy()
    for voice in np.flatnonzero(~chord.any(axis=1)):
        sung = np.flatnonzero(sounding[voice, :start].any(axis=1))
        if sung.size:
            chord[voice] = sounding[voice, sung[-1]]
    sounding[:, start:] = chord[:, None]
    onsets[:, start:] = False
    onsets[:, start] = chord
    return roll.with_arrays(sounding, onsets)

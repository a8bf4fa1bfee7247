"""From generator output to music: binarization and decoding into rolls."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .decoding import DEFAULT_RULES, DecodingRules, hold_lone_rests, voice_leading_decode
from .encoding import Encoding, decode
from .errors import BachganError
from .limits import (
    MAX_BARS,
    MAX_CANDIDATES,
    MAX_PIECES,
    check_count,
    check_temperature,
    check_tempo,
)
from .models.musegan import (
    Critic,
    GeneratorOutput,
    MuseGANConfig,
    MuseGANGenerator,
    Noise,
    critic_input,
)
from .roll import VOICE_NAMES, Roll

__all__ = [
    "BINARIZATIONS",
    "DEFAULT_BINARIZATION",
    "KEY_MODES",
    "LoadedModel",
    "binarize",
    "decode_output",
    "decoding_rules",
    "generate",
    "hold_final_chord",
    "load_model",
    "model_arch",
    "pretrained_path",
    "seed_compositions",
]

#: ``argmax`` takes each step's most likely pitch (deterministic); ``sample`` draws it from the
#: softmax at a temperature; ``voice-leading`` takes the four voices' jointly most likely lines
#: that avoid parallels, leaps over an octave and, unless the model learned the data's rate of
#: them, crossings, preferring notes in the piece's key, with a voice holding its note where
#: it would rest alone (:mod:`bachgan.decoding`).
#: Onsets are thresholded at 0.5, or drawn with ``sample``.
BINARIZATIONS = ("argmax", "sample", "voice-leading")
#: What :func:`generate`, ``bachgan generate`` and ``bachgan evaluate --model`` use.
DEFAULT_BINARIZATION = "voice-leading"
#: The modes a mode-conditioned model writes in, by index.
KEY_MODES = ("major", "minor")
#: Bars of samples that one pass of the generator or critic handles (the shipped model needs
#: about 1.5 MB per bar), so that long pieces and many candidates keep memory bounded.
_BARS_PER_PASS = 256


def binarize(
    output: GeneratorOutput,
    lowest_pitch: int,
    mode: str = "argmax",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    rules: DecodingRules = DEFAULT_RULES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pitch class indices ``(B, V, T)`` and onsets ``(B, V, T)`` (bool) from the logits,
    whose pitch classes start at MIDI ``lowest_pitch``."""
    if mode == "argmax":
        return output.pitch_logits.argmax(dim=-1), output.onset_logits > 0
    if mode == "voice-leading":
        log_probs = output.pitch_logits.log_softmax(-1).cpu().numpy()
        pitch = voice_leading_decode(log_probs, lowest_pitch, rules)
        onset = (output.onset_logits > 0).cpu().numpy()
        if rules.hold_lone_rests:
            pitch, onset = hold_lone_rests(pitch, onset, rest=log_probs.shape[-1] - 1)
        device = output.pitch_logits.device
        return torch.from_numpy(pitch).to(device), torch.from_numpy(onset).to(device)
    if mode != "sample":
        raise ValueError(f"unknown binarization {mode!r}; choose from {BINARIZATIONS}")
    logits = output.pitch_logits / temperature
    flat = torch.multinomial(logits.softmax(-1).flatten(0, 2).cpu(), 1, generator=generator)
    pitch = flat.view(logits.shape[:3]).to(logits.device)
    onset_probability = torch.sigmoid(output.onset_logits / temperature).cpu()
    onset = torch.bernoulli(onset_probability, generator=generator).bool().to(logits.device)
    return pitch, onset


def decode_output(
    output: GeneratorOutput,
    encoding: Encoding,
    mode: str = "argmax",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    rules: DecodingRules = DEFAULT_RULES,
    **meta: object,
) -> list[Roll]:
    """Binarize a batch of generator output and decode each piece into a four-voice roll."""
    pitch, onset = binarize(output, encoding.lowest_pitch, mode, temperature, generator, rules)
    names = VOICE_NAMES if pitch.shape[1] == len(VOICE_NAMES) else ()
    return [
        decode(p.cpu().numpy(), o.cpu().numpy(), encoding, track_names=names, **meta)
        for p, o in zip(pitch, onset, strict=True)
    ]


@dataclass
class LoadedModel:
    """A trained chorale generator ready to sample: EMA weights, its encoding and sizes."""

    generator: MuseGANGenerator
    encoding: Encoding
    config: MuseGANConfig
    step: int
    source: str
    critic: Critic | None = None
    #: The costs :func:`generate` decodes this model with (``voice-leading``).
    rules: DecodingRules = DEFAULT_RULES


def load_model(path: str | os.PathLike | None = None, device: str = "cpu") -> LoadedModel:
    """Load the generator of a ``musegan`` checkpoint (a .pt file or a run folder); without a
    path, the pretrained chorale model shipped with the package."""
    from .checkpoint import load_checkpoint

    path = Path(path) if path is not None else pretrained_path()
    checkpoint = load_checkpoint(path, device)
    if checkpoint.get("arch") != "musegan":
        raise BachganError(f"{path} holds a {checkpoint.get('arch')!r} model, not 'musegan'")
    try:
        loaded = _build_model(checkpoint, str(path), device)
        _write_one_bar(loaded)
    except Exception as error:  # a crafted or foreign file can break the model anywhere
        raise BachganError(
            f"{path} is not a compatible bachgan model ({type(error).__name__}: {error})"
        ) from error
    return loaded


def _build_model(checkpoint: dict, source: str, device: str) -> LoadedModel:
    config = MuseGANConfig.from_dict(checkpoint["model_config"])
    generator = MuseGANGenerator(config)
    generator.load_state_dict(checkpoint["ema"])
    encoding = Encoding.from_dict(checkpoint["encoding"])
    if encoding.n_voices != config.n_voices:
        raise ValueError("the encoding and the model disagree on the number of voices")
    critic = None
    if "critic" in checkpoint:
        critic = Critic(config)
        critic.load_state_dict(checkpoint["critic"])
        critic = critic.eval().to(device)
    return LoadedModel(
        generator.eval().to(device),
        encoding,
        config,
        int(checkpoint["step"]),
        source,
        critic,
        decoding_rules(dict(checkpoint.get("train_config", {}))),
    )


def _write_one_bar(loaded: LoadedModel) -> None:
    """Generate and decode one bar, so that a model whose stored sizes do not work together
    fails on loading rather than in the middle of a request."""
    rng = torch.Generator().manual_seed(0)
    device = next(loaded.generator.parameters()).device
    with torch.no_grad():
        output = loaded.generator(Noise.sample(loaded.config, 1, 1, generator=rng).to(device))
    decode_output(output, loaded.encoding)


def decoding_rules(train_config: dict) -> DecodingRules:
    """The voice-leading decoding's costs for a model trained with ``train_config``: one
    taught the data's rate of voice crossings (``count_crossings`` off) keeps its crossings;
    one trained to avoid every crossing has them banned."""
    if train_config.get("count_crossings", True):
        return DEFAULT_RULES
    return replace(DEFAULT_RULES, crossing_cost=0.0)


def model_arch(path: str | os.PathLike) -> str:
    """The architecture a checkpoint was trained with (``musegan`` or ``seed``)."""
    from .checkpoint import load_checkpoint

    return str(load_checkpoint(path).get("arch"))


def seed_compositions(path: str | os.PathLike, n: int = 1, seed: int = 0) -> np.ndarray:
    """Images from a seed-DCGAN checkpoint, the article's way: ``(n, 106, 106)`` uint8, the
    generator's output times 255."""
    from .checkpoint import load_checkpoint
    from .models import SeedConfig, SeedGenerator

    check_count("pieces", n, MAX_PIECES)
    checkpoint = load_checkpoint(path)
    try:
        generator = SeedGenerator(SeedConfig.from_dict(checkpoint["model_config"]))
        generator.load_state_dict(checkpoint["generator"])
    except Exception as error:  # a crafted or foreign file can break the model anywhere
        raise BachganError(
            f"{path} is not a compatible seed model ({type(error).__name__}: {error})"
        ) from error
    latent = torch.randn(n, generator.config.latent, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # a few images per pass: the article's generator needs 200 MB each
        images = torch.cat([generator.eval()(part)[:, 0] for part in latent.split(4)])
    return (images.numpy() * 255).astype(np.uint8)


def pretrained_path() -> Path:
    """The chorale model shipped inside the package."""
    return Path(__file__).parent / "pretrained" / "chorales.pt"


def generate(
    n: int = 1,
    bars: int = 4,
    seed: int = 0,
    model: LoadedModel | str | os.PathLike | None = None,
    mode: str = DEFAULT_BINARIZATION,
    temperature: float = 1.0,
    tempo_bpm: float = 80.0,
    final_chord: bool = True,
    candidates: int = 1,
    key_mode: str | None = None,
) -> list[Roll]:
    """Generate ``n`` new four-voice pieces of ``bars`` bars (any number: the model is
    convolutional over bars). The same ``seed`` gives the same pieces.

    A mode-conditioned model is asked for ``key_mode`` (``"major"`` or ``"minor"``) for every
    piece, or without it for either, as often as its training data had it; it follows the
    request as closely as its training taught it to.

    With ``final_chord`` the last bar holds the chord of its downbeat, so a piece ends instead
    of stopping. With ``candidates`` > 1 and a model that carries its critic, each piece is the
    one the critic scores highest among that many samples (discriminator rejection sampling).
    """
    check_count("pieces", n, MAX_PIECES)
    check_count("bars", bars, MAX_BARS)
    check_count("candidates", candidates, MAX_CANDIDATES)
    tempo_bpm = check_tempo(tempo_bpm)
    if mode == "sample":
        check_temperature(temperature)
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    rng = torch.Generator().manual_seed(seed)
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
    meta = {"tempo_bpm": tempo_bpm, "key_fifths": 0}
    rolls = decode_output(output, loaded.encoding, mode, temperature, rng, loaded.rules, **meta)
    return [hold_final_chord(roll) if final_chord else roll for roll in rolls]


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

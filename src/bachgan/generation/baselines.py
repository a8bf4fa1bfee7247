"""The baselines' backends: the unconditional MuseGAN chorale model and the seed article's
DCGAN.

The MuseGAN model writes every voice of a piece in one pass from a latent point, binarized as
``sampling`` says (:mod:`bachgan.generation.binarize`). It harmonizes a melody by latent
optimisation (GAN inversion): a batch of latent points is optimised with Adam so that the
generator's soprano matches the melody (cross-entropy on its pitch logits) while its alto,
tenor and bass, sounding under the melody itself, avoid parallel perfect intervals, leaps over
an octave and voice crossing; the best candidate's lower voices are then decoded under the
melody with the voice-leading search, and the melody is written back unchanged. It places no
phrases, takes melodies only as sopranos, and cannot rewrite a region.

The seed DCGAN draws the article's 106 x 106 piano-roll images.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from ..encoding import Encoding
from ..errors import BachganError
from ..limits import MAX_PIECES, check_count
from ..models.musegan import Critic, GeneratorOutput, Noise, VoiceLeadingFaults, critic_input
from ..models.seed import SeedConfig, SeedGenerator
from ..roll import Roll
from .backend import ComposeRequest, HarmonyRequest, LoadedModel, batch_passes, mode_index
from .binarize import DecodingRules, decode_output, hold_lone_rests, voice_leading_decode
from .endings import hold_final_chord

__all__ = ["MuseGANBackend", "seed_compositions"]


class MuseGANBackend:
    """How the unconditional MuseGAN baseline writes music (see the module docstring)."""

    abilities = frozenset()

    def describe(self, loaded: LoadedModel) -> str:
        return f"writes {loaded.config.generated_steps_per_bar} decisions per bar in one pass"

    def meters(self, loaded: LoadedModel) -> tuple[int, ...]:
        return (4,)

    def check(self, loaded: LoadedModel) -> None:
        rng = torch.Generator().manual_seed(0)
        device = next(loaded.generator.parameters()).device
        with torch.no_grad():
            output = loaded.generator(Noise.sample(loaded.config, 1, 1, generator=rng).to(device))
        decode_output(output, loaded.encoding)

    def compose(
        self, loaded: LoadedModel, request: ComposeRequest, rng: torch.Generator
    ) -> list[Roll]:
        n, candidates, bars = request.n, request.candidates, request.bars
        device = next(loaded.generator.parameters()).device
        noise = Noise.sample(loaded.config, n * candidates, bars, generator=rng).to(device)
        if request.key_mode is not None:
            index = mode_index(request.key_mode, loaded)
            noise.mode = torch.full((n * candidates,), index, dtype=torch.long, device=device)
        with torch.no_grad():
            output = _generate_in_passes(loaded, noise, bars)
            if candidates > 1 and loaded.critic is not None:
                output = _best_candidates(output, noise.mode, loaded.critic, n, candidates, bars)
            elif candidates > 1:
                output = GeneratorOutput(output.pitch_logits[:n], output.onset_logits[:n])
        return decode_output(
            output,
            loaded.encoding,
            request.sampling,
            request.temperature,
            rng,
            loaded.rules,
            **request.meta,
        )

    def mark_phrases(self, roll: Roll, closes: Sequence[int]) -> Roll:
        return roll

    def hold_close(self, roll: Roll) -> Roll:
        """The chord of the last bar's downbeat, held through the bar."""
        return hold_final_chord(roll)

    def phrase_plan(self, bars: int) -> tuple[int, ...]:
        return ()

    def harmonize(
        self, loaded: LoadedModel, request: HarmonyRequest
    ) -> tuple[np.ndarray, np.ndarray, float]:
        target = request.codes[0]
        noise = _optimise(loaded, target, request)
        with torch.no_grad():
            output = loaded.generator(noise)
        log_probs = output.pitch_logits.log_softmax(dim=-1)[0].numpy()
        fit = float((log_probs[0].argmax(axis=-1) == target).mean())
        onset = (output.onset_logits > 0)[0].numpy()
        pitch, onset = _lower_voices_under(
            request.codes, log_probs, onset, loaded.encoding, request.rules
        )
        return pitch, onset, fit

    def sung_pitches(
        self, loaded: LoadedModel, voice: int, windows: int, rng: torch.Generator
    ) -> torch.Tensor:
        noise = Noise.sample(loaded.config, windows, generator=rng)
        with torch.no_grad():
            return loaded.generator(noise).pitch_logits[:, voice].argmax(dim=-1)

    def sampling_note(self, sampling: str | None) -> str:
        return ""


def _generate_in_passes(loaded: LoadedModel, noise: Noise, bars: int) -> GeneratorOutput:
    parts = batch_passes(len(noise.global_), bars)
    outputs = [loaded.generator(noise.pick(part)) for part in parts]
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
            for part in batch_passes(len(pitch), bars)
        ]
    ).view(n, candidates)
    best = scores.argmax(dim=1) + torch.arange(n, device=scores.device) * candidates
    return GeneratorOutput(output.pitch_logits[best], output.onset_logits[best])


def _optimise(loaded: LoadedModel, target: np.ndarray, request: HarmonyRequest) -> Noise:
    """The candidate latent point with the lowest final objective: the soprano's mean
    cross-entropy against ``target`` plus ``request.rule_weight`` times the faults per bar of
    the lower voices' pitch probabilities under the melody itself. A mode-conditioned model's
    candidates draw their modes as in training, so the best-fitting candidate's mode wins."""
    candidates, steps, progress = request.candidates, request.steps, request.progress
    bars = len(target) // loaded.encoding.steps_per_bar
    generator = torch.Generator().manual_seed(request.seed)
    noise = Noise.sample(loaded.config, candidates, bars, generator=generator)
    variables = [t.requires_grad_(True) for t in noise.parameters()]
    optimiser = torch.optim.Adam(variables, lr=0.1)
    labels = torch.from_numpy(target)[None].expand(candidates, -1)
    melody = F.one_hot(labels, loaded.config.n_classes).float()[:, None]  # (K, 1, T, C)
    faults = VoiceLeadingFaults(loaded.config, crossings=True)
    loaded.generator.requires_grad_(False)
    for step in range(steps):
        if progress is not None:
            progress(step / steps)
        logits = loaded.generator(noise).pitch_logits  # (K, V, T, C)
        loss = F.cross_entropy(logits[:, 0].transpose(1, 2), labels, reduction="none").mean(1)
        if request.rule_weight:
            under_melody = torch.cat([melody, logits[:, 1:].softmax(dim=-1)], dim=1)
            loss = loss + request.rule_weight * faults(under_melody)
        prior = sum(t.square().flatten(1).mean(dim=1) for t in variables)  # stay near N(0, 1)
        optimiser.zero_grad()
        (loss + 0.01 * prior).sum().backward()
        optimiser.step()
    best = int(loss.argmin())
    return noise.pick(slice(best, best + 1))


def _lower_voices_under(
    melody_codes: tuple[np.ndarray, np.ndarray],
    log_probs: np.ndarray,
    onset: np.ndarray,
    encoding: Encoding,
    rules: DecodingRules,
) -> tuple[np.ndarray, np.ndarray]:
    """``(V, T)`` pitch classes and onsets: the melody (its pitch classes and onsets) as the
    soprano and the lower voices decoded by the voice-leading search beneath it, holding
    their notes where they would rest alone if ``rules`` say so."""
    melody, melody_onset = melody_codes
    fixed = log_probs.copy()
    fixed[0] = np.where(np.arange(fixed.shape[-1]) == melody[:, None], 0.0, -np.inf)
    pitch = voice_leading_decode(fixed[None], encoding.lowest_pitch, rules)[0]
    if rules.hold_lone_rests:
        held, onset = hold_lone_rests(pitch[None], onset[None], rest=fixed.shape[-1] - 1)
        pitch, onset = held[0], onset[0]
    pitch[0], onset[0] = melody, melody_onset
    return pitch, onset


def seed_compositions(checkpoint: dict, n: int = 1, seed: int = 0, source: str = "") -> np.ndarray:
    """Images from a loaded seed-DCGAN checkpoint, the article's way: ``(n, 106, 106)``
    uint8, the generator's output times 255."""
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

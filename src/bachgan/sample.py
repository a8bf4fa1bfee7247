"""From generator output to music: binarization and decoding into rolls."""

from __future__ import annotations

import torch

from .encoding import Encoding, decode
from .models.musegan import GeneratorOutput
from .roll import VOICE_NAMES, Roll

__all__ = ["BINARIZATIONS", "binarize", "decode_output"]

#: ``argmax`` takes each step's most likely pitch (deterministic); ``sample`` draws it from the
#: softmax at a temperature. Onsets are thresholded at 0.5 or drawn alike.
BINARIZATIONS = ("argmax", "sample")


def binarize(
    output: GeneratorOutput,
    mode: str = "argmax",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pitch class indices ``(B, V, T)`` and onsets ``(B, V, T)`` (bool) from the logits."""
    if mode == "argmax":
        return output.pitch_logits.argmax(dim=-1), output.onset_logits > 0
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
    **meta: object,
) -> list[Roll]:
    """Binarize a batch of generator output and decode each piece into a four-voice roll."""
    pitch, onset = binarize(output, mode, temperature, generator)
    names = VOICE_NAMES if pitch.shape[1] == len(VOICE_NAMES) else ()
    return [
        decode(p.cpu().numpy(), o.cpu().numpy(), encoding, track_names=names, **meta)
        for p, o in zip(pitch, onset, strict=True)
    ]

"""Composing new pieces with a loaded model: any number of bars, meter, key and phrases."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

import torch

from ..encoding import move_from_c
from ..errors import BachganError
from ..limits import (
    MAX_BARS,
    MAX_CANDIDATES,
    MAX_PIECES,
    check_count,
    check_temperature,
    check_tempo,
)
from ..roll import Roll
from ..theory import parse_key
from .backend import DEFAULT_REVISIONS, ComposeRequest, LoadedModel, meter_bar_steps
from .binarize import DEFAULT_BINARIZATION
from .completion import Revisions
from .endings import closing_bars
from .loading import load_model

__all__ = ["generate"]


def generate(
    n: int = 1,
    bars: int = 4,
    seed: int = 0,
    model: LoadedModel | str | os.PathLike | None = None,
    *,
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
    ``phrases`` (counted from 1) and in the last bar, and marks each close with a fermata;
    without ``phrases``, where its backend's plan puts them (the sequential model: every two
    bars; the completion model: the last bar only).
    With ``final_chord`` a piece ends on a held chord instead of stopping (the completion
    model: its last bar holds the chord of its downbeat; the sequential model writes its
    closing tonic chord itself). With ``candidates`` > 1 and a model that carries its critic,
    each piece is the one the critic scores highest among that many samples (discriminator
    rejection sampling).
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
    if phrases:
        loaded.require("phrases")
    closes = closing_bars(phrases or loaded.backend.phrase_plan(bars), bars)
    time_signature = (bar_steps // loaded.encoding.resolution, 4)
    meta = {"tempo_bpm": tempo_bpm, "key_fifths": 0, "time_signature": time_signature}
    request = ComposeRequest(
        n, bars, bar_steps, candidates, key_mode, closes, revisions, sampling, temperature, meta
    )
    rolls = loaded.backend.compose(loaded, request, torch.Generator().manual_seed(seed))
    rolls = [loaded.backend.hold_close(roll) if final_chord else roll for roll in rolls]
    rolls = [loaded.backend.mark_phrases(roll, closes) for roll in rolls]
    if fifths is None:
        return rolls
    return [
        replace(move_from_c(roll, fifths), key_fifths=fifths, key_mode=key_mode) for roll in rolls
    ]


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

"""The backend of the conditional completion model (the shipped model): it composes by
completing an empty chorale, harmonizes by completing the voices around a given one, and
rewrites regions; phrases close where asked and are marked with fermatas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

import numpy as np
import torch
from torch.nn import functional as F

from ..encoding import Encoding, decode, window_keys
from ..models.conditional import closing_steps, critic_extra
from ..models.musegan import bar_positions
from ..roll import VOICE_NAMES, Roll
from .backend import (
    KEY_MODES,
    ComposeRequest,
    HarmonyRequest,
    LoadedModel,
    batch_passes,
    mode_index,
)
from .completion import NO_REVISIONS, Revisions, complete_chorale
from .endings import fermata_steps, hold_final_chord

__all__ = ["KEY_RETRIES", "CompletionBackend"]

#: How many more times a piece that came out in another key than asked is composed.
KEY_RETRIES = 8


class CompletionBackend:
    """How the conditional completion model writes music (see the module docstring)."""

    abilities = frozenset({"phrases", "lower voices", "regions"})

    def describe(self, loaded: LoadedModel) -> str:
        return "completes partly given chorales (composes, harmonizes, regenerates)"

    def meters(self, loaded: LoadedModel) -> tuple[int, ...]:
        return loaded.config.meters

    def check(self, loaded: LoadedModel) -> None:
        rng = torch.Generator().manual_seed(0)
        mode = torch.zeros(1, dtype=torch.long) if loaded.config.modes else None
        pitch, onset = self.compose_codes(
            loaded, 1, loaded.config.steps_per_bar, mode, Revisions(rounds=1), rng
        )
        decode(pitch[0].numpy(), onset[0].numpy(), loaded.encoding)

    def compose(
        self, loaded: LoadedModel, request: ComposeRequest, rng: torch.Generator
    ) -> list[Roll]:
        """Each piece an empty chorale completed and revised (its cells drawn at
        ``request.temperature`` with ``sampling="sample"``), in the key of the mode it was
        asked for: a piece whose best-fitting key is another is composed again, up to
        :data:`KEY_RETRIES` times."""
        if request.sampling == "sample":
            request = replace(
                request, revisions=replace(request.revisions, temperature=request.temperature)
            )
        pitch, onset, modes = _composed(loaded, request, rng)
        return [
            decode(p, o, loaded.encoding, VOICE_NAMES, key_mode=m, **request.meta)
            for p, o, m in zip(pitch, onset, modes, strict=True)
        ]

    def mark_phrases(self, roll: Roll, closes: Sequence[int]) -> Roll:
        return replace(roll, fermatas=fermata_steps(roll, closes))

    def hold_close(self, roll: Roll) -> Roll:
        """The chord of the last bar's downbeat, held through the bar."""
        return hold_final_chord(roll)

    def phrase_plan(self, bars: int) -> tuple[int, ...]:
        """None: the model was not taught where phrases close, only where pieces end."""
        return ()

    def harmonize(
        self, loaded: LoadedModel, request: HarmonyRequest
    ) -> tuple[np.ndarray, np.ndarray, float]:
        if request.progress is not None:
            request.progress(0.0)
        (melody, melody_onset), row = request.codes, request.row
        voices, steps = loaded.config.n_voices, len(melody)
        pitch = torch.full((1, voices, steps), loaded.encoding.rest, dtype=torch.long)
        onset = torch.zeros(1, voices, steps)
        pitch[0, row] = torch.from_numpy(melody)
        onset[0, row] = torch.from_numpy(melody_onset).float()
        free = torch.ones(1, voices, steps)
        free[0, row] = 0
        modes = torch.tensor([KEY_MODES.index(request.mode)]) if loaded.config.modes else None
        rng = torch.Generator().manual_seed(request.seed)
        pitch, onset = self.complete(
            loaded,
            pitch,
            onset,
            free,
            modes,
            request.revisions,
            rng,
            request.closes,
            request.bar_steps,
        )
        return pitch[0].numpy(), onset[0].numpy(), 1.0

    def sung_pitches(
        self, loaded: LoadedModel, voice: int, windows: int, rng: torch.Generator
    ) -> torch.Tensor:
        steps = loaded.config.bars * loaded.config.steps_per_bar
        mode = torch.zeros(windows, dtype=torch.long) if loaded.config.modes else None
        pitch, _ = self.compose_codes(loaded, windows, steps, mode, NO_REVISIONS, rng)
        return pitch[:, voice]

    def complete(
        self,
        loaded: LoadedModel,
        pitch: torch.Tensor,
        onset: torch.Tensor,
        free: torch.Tensor,
        mode: torch.Tensor | None,
        revisions: Revisions,
        rng: torch.Generator,
        closes: Sequence[int] | None = None,
        bar_steps: int | None = None,
        novelty: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the ``free`` cells of the chorales ``pitch``/``onset`` ``(B, V, T)`` in C
        major / A minor (:func:`~bachgan.generation.completion.complete_chorale`), closing
        phrases in the bars ``closes`` (by default the last)."""
        return complete_chorale(
            loaded.generator, pitch, onset, free, mode, revisions, rng, closes, bar_steps, novelty
        )

    def compose_codes(
        self,
        loaded: LoadedModel,
        n: int,
        steps: int,
        mode: torch.Tensor | None,
        revisions: Revisions,
        rng: torch.Generator,
        closes: Sequence[int] | None = None,
        bar_steps: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` new chorales of ``steps`` steps: empty chorales completed by
        :meth:`complete`. Returns ``(pitch, onset)`` codes ``(n, V, steps)``."""
        shape = (n, loaded.config.n_voices, steps)
        rest = torch.full(shape, loaded.encoding.rest, dtype=torch.long)
        empty = torch.zeros(shape)
        return self.complete(
            loaded, rest, empty, torch.ones(shape), mode, revisions, rng, closes, bar_steps
        )

    def sampling_note(self, sampling: str | None) -> str:
        if sampling in ("argmax", "voice-leading"):
            return (
                f"--sampling {sampling} is for the musegan baseline; a completion model takes "
                "its most likely notes (or draws them with --sampling sample)"
            )
        return ""


def _composed(
    loaded: LoadedModel, request: ComposeRequest, rng: torch.Generator
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """The chorales as ``(pitch, onset)`` codes ``(n, V, T)``, each the critic's favourite
    among the candidates when there are more than one, and each one's mode (``None`` for a
    model without modes)."""
    n, candidates = request.n, request.candidates
    batch, config = n * candidates, loaded.config
    mode = None
    if config.modes:
        drawn = (torch.rand(batch, generator=rng) < config.minor_share).long()
        asked = request.key_mode
        mode = drawn if asked is None else torch.full_like(drawn, mode_index(asked, loaded))
    elif request.key_mode is not None:
        mode_index(request.key_mode, loaded)
    compose = partial(_compose, loaded, request, rng=rng)
    if mode is None:
        pitch, onset = compose(batch, None)
    else:
        pitch, onset = _in_their_keys(compose, mode, loaded.encoding)
    chosen = torch.arange(n)
    if candidates > 1 and loaded.critic is not None:
        chosen = _critics_choice(loaded, pitch, onset, mode, request)
    modes = [None] * n if mode is None else [KEY_MODES[m] for m in mode[chosen].tolist()]
    return pitch[chosen].numpy(), onset[chosen].numpy(), modes


def _compose(
    loaded: LoadedModel,
    request: ComposeRequest,
    count: int,
    mode: torch.Tensor | None,
    rng: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` chorales of the request's length and meter, in passes of bounded memory."""
    parts = [
        loaded.backend.compose_codes(
            loaded,
            len(range(count)[part]),
            request.bars * request.bar_steps,
            _part(mode, part),
            request.revisions,
            rng,
            request.closes,
            request.bar_steps,
        )
        for part in batch_passes(count, request.bars)
    ]
    return torch.cat([p for p, _ in parts]), torch.cat([o for _, o in parts])


def _in_their_keys(
    compose: Callable[[int, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    mode: torch.Tensor,
    encoding: Encoding,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chorales from ``compose(count, mode)``, each in the key of the ``mode`` it was asked
    for (C major, A minor): a piece whose best-fitting key
    (:func:`~bachgan.encoding.window_keys`) is another is composed again, up to
    :data:`KEY_RETRIES` times (the last try is kept)."""
    asked = torch.where(mode == KEY_MODES.index("minor"), 21, 0)
    pitch, onset = compose(len(mode), mode)
    for _ in range(KEY_RETRIES):
        keys = torch.from_numpy(window_keys(pitch.numpy(), encoding))
        wrong = torch.nonzero(keys != asked).flatten()
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
    request: ComposeRequest,
) -> torch.Tensor:
    """Indices of the candidate the critic scores highest for each of the pieces."""
    steps = pitch.shape[2]
    ending = closing_steps(steps, request.bar_steps, request.closes)
    positions = bar_positions(steps, request.bar_steps)
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
            for part in batch_passes(len(pitch), request.bars)
        ]
    ).view(request.n, request.candidates)
    return scores.argmax(dim=1) + torch.arange(request.n) * request.candidates

"""Reading the one file a person gives (a melody to harmonize, a piece to regenerate): MIDI
or a score, chosen by its suffix, with its pickup and fermatas."""

from __future__ import annotations

from pathlib import Path

from ..roll import Conversion
from .midi import read_midi_conversion
from .score_reader import SCORE_SUFFIXES, read_score_conversion

__all__ = ["read_user_music"]


def read_user_music(path: Path, max_bars: int | None = None, parts: int = 1) -> Conversion:
    """A file a user gives: MIDI (every track, as :func:`read_midi_conversion` reads it) or a
    score of ``parts`` parts (a melody: one; a chorale: Soprano, Alto, Tenor, Bass), its pickup
    and fermatas read as well; raises :class:`~bachgan.errors.SkipFile` with the reason it
    cannot be used."""
    if path.suffix.lower() not in SCORE_SUFFIXES:
        return read_midi_conversion(path, max_bars=max_bars)
    return read_score_conversion(path, voices=parts, max_bars=max_bars)

"""What people type to ask for music, read once: a region's bars, phrase ends, voices."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import BachganError
from ..roll import VOICE_NAMES

__all__ = ["parse_bars", "parse_phrases", "parse_voices"]


def parse_bars(text: str) -> tuple[int, int]:
    """``"3-4"`` -> ``(3, 4)``; ``"5"`` -> ``(5, 5)``. A range open at one end (``"3-"``)
    is refused: the last bar must be said."""
    first, dash, last = text.strip().partition("-")
    if not all(_whole_number(part) for part in ((first, last) if dash else (first,))):
        raise BachganError(
            f"bars must look like 3-4 (first and last, both given) or 5 (got {text[:20]!r})"
        )
    return int(first), int(last or first)


def _whole_number(text: str) -> bool:
    text = text.strip()
    return 1 <= len(text) <= 6 and text.isascii() and text.isdecimal()


def parse_phrases(text: str | None, bars: int) -> list[int]:
    """Where phrases end, as typed: ``"4"`` -> every fourth bar of ``bars``; ``"3,6,10"`` ->
    those bars; empty -> none."""
    text = (text or "").strip()
    if not text:
        return []
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise BachganError(f"phrases are N or bars such as 3,6,10 (got {text!r})") from None
    if len(numbers) == 1 and "," not in text:
        if numbers[0] < 1:
            raise BachganError("phrases of N bars need N of 1 or more")
        return list(range(numbers[0], bars + 1, numbers[0]))
    return numbers


def parse_voices(voices: Sequence[str] | str | None) -> list[str]:
    """Voice names, lower case, in score order; ``None`` means all four. A string may list
    them with commas (``"alto,tenor"``)."""
    names = [name.lower() for name in VOICE_NAMES]
    if voices is None:
        return names
    if isinstance(voices, str):
        voices = [v for v in voices.split(",") if v.strip()]
    chosen = [v.strip().lower() for v in voices]
    unknown = [v for v in chosen if v not in names]
    if unknown or not chosen:
        raise BachganError(
            f"unknown voice {', '.join(unknown) or '(none)'}; choose from {', '.join(names)}"
        )
    twice = sorted({v for v in chosen if chosen.count(v) > 1}, key=names.index)
    if twice:
        raise BachganError(f"voice {', '.join(twice)} given more than once")
    return [name for name in names if name in chosen]

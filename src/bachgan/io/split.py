"""A fixed held-out split of the Bach chorales, grouped so that no chorale sits on both sides.

Bach set many chorale tunes more than once, and the corpus holds versions of the same setting
under related names (``bwv112.5`` and ``bwv112.5-sc``). Pieces are grouped when their names
agree once such suffixes are removed, or when their soprano melodies begin with the same
eight intervals (a content check that catches the same tune under unrelated numbers). Whole
groups are then drawn for the held-out side. The split ships in ``splits/bach.json``, made by
``tools/make-split``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..roll import Roll

__all__ = ["SPLIT_PATH", "group_pieces", "heldout_names", "make_split", "name_key"]

SPLIT_PATH = Path(__file__).parent.parent / "splits" / "bach.json"
_MELODY_INTERVALS = 8


def name_key(name: str) -> str:
    """A piece's name without folder, extension and version suffix: bwv18.5-lz -> bwv18.5."""
    stem = Path(name.split(":", 1)[-1]).stem.lower()
    return re.sub(r"[a-z]$", "", stem.split("-")[0])  # bwv18.5-lz, bwv145a -> bwv18.5, bwv145


def _melody_key(roll: Roll) -> tuple[int, ...] | None:
    notes = roll.notes()
    soprano = notes.select(notes.track == 0)
    pitches = soprano.pitch[np.argsort(soprano.start, kind="stable")]
    intervals = tuple(int(x) for x in np.diff(pitches)[:_MELODY_INTERVALS])
    return intervals if len(intervals) == _MELODY_INTERVALS else None


def group_pieces(rolls: list[Roll], names: list[str]) -> list[int]:
    """A group number per piece: pieces related by name or by opening melody share one."""
    parent = list(range(len(rolls)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict[object, int] = {}
    for index, (roll, name) in enumerate(zip(rolls, names, strict=True)):
        for key in (("name", name_key(name)), ("melody", _melody_key(roll))):
            if key[1] is None:
                continue
            if key in first_seen:
                parent[find(index)] = find(first_seen[key])
            else:
                first_seen[key] = index
    return [find(i) for i in range(len(rolls))]


def make_split(
    rolls: list[Roll], names: list[str], fraction: float = 0.1, seed: int = 0
) -> list[str]:
    """Names of the held-out pieces: whole groups drawn at random until ``fraction`` of the
    pieces is reached."""
    groups = group_pieces(rolls, names)
    order = np.random.default_rng(seed).permutation(sorted(set(groups)))
    target = round(fraction * len(rolls))
    heldout: list[str] = []
    for group in order:
        if len(heldout) >= target:
            break
        heldout += [name for name, g in zip(names, groups, strict=True) if g == group]
    return sorted(heldout)


def heldout_names() -> set[str]:
    """The shipped held-out split."""
    return set(json.loads(SPLIT_PATH.read_text())["heldout"])

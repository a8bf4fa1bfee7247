"""How often a phrase end asked for with ``--phrases`` gets one: in each inner bar of composed
pieces, whether a chord is held for a half note or more (a chord struck by all four voices
and sung unchanged that long) and whether the bar's last chord is a root-position tonic or
dominant triad (the chord of an authentic or a half cadence). Bars asked to close are set
beside the other bars of the same pieces and beside the same bars of pieces composed
without phrases (same seeds); the last bar, always held, is left out.

    python benchmarks/phrases.py [--model PATH] [--pieces 100] [--bars 16] [--every 4]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from bachgan.harmony import harmony_counts, tonic_of
from bachgan.metrics import voice_lines
from bachgan.roll import Roll
from bachgan.sample import generate, load_model
from bachgan.theory import identify_chord, pitch_class_set


def closes(bar: Roll, tonic: int) -> tuple[bool, bool]:
    """Whether ``bar`` holds a chord for a half note or more, and whether its last chord
    struck by every voice is a root-position triad on the ``tonic`` or its dominant."""
    held = harmony_counts(bar)["held chords"] > 0
    lines = voice_lines(bar)
    struck = np.flatnonzero(bar.onsets.any(axis=2).any(axis=0) & (lines >= 0).all(axis=0))
    if not struck.size:
        return held, False
    last = lines[:, struck[-1]]
    chord = identify_chord(pitch_class_set(last))
    cadential = (
        chord is not None
        and chord.quality in ("major", "minor")
        and last[-1] % 12 == chord.root
        and chord.root in (tonic, (tonic + 7) % 12)
    )
    return held, bool(cadential)


def bar_closes(pieces: list[Roll], bars: list[int]) -> np.ndarray:
    """``(pieces x bars, 2)``: :func:`closes` for the ``bars`` (from 0) of every piece."""
    rows = []
    for piece in pieces:
        tonic, length = tonic_of(piece), piece.steps_per_bar
        for bar in bars:
            rows.append(closes(piece.slice_steps(bar * length, (bar + 1) * length), tonic))
    return np.array(rows, dtype=float).reshape(-1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint (default: the shipped model)")
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--every", type=int, default=4, help="phrase length in bars")
    args = parser.parse_args()
    model = load_model(args.model)
    asked = list(range(args.every, args.bars, args.every))  # from 1; the last bar always closes
    inner = [bar - 1 for bar in asked]
    others = [bar for bar in range(args.bars - 1) if bar not in inner]
    print(f"{args.pieces} pieces of {args.bars} bars, phrases asked to end in bars {asked}")
    print("| meter | bars | held chord | I or V root-position triad last |")
    print("|---|---|---|---|")
    for beats in sorted(model.meters, reverse=True):
        meter = f"{beats}/4"
        phrased = generate(args.pieces, args.bars, 0, model, meter=meter, phrases=asked)
        plain = generate(args.pieces, args.bars, 0, model, meter=meter)
        for label, pieces, bars in (
            ("asked to close", phrased, inner),
            ("the other inner bars", phrased, others),
            ("the same bars, no --phrases", plain, inner),
        ):
            held, cadential = bar_closes(pieces, bars).mean(axis=0)
            print(f"| {meter} | {label} | {held:.2f} | {cadential:.2f} |", flush=True)


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()

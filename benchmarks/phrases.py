"""How often a phrase end asked for with ``--phrases`` gets one: in each inner bar of composed
pieces, whether a chord is held for a half note or more (a chord struck by all four voices
and sung unchanged that long) and whether its chord under the fermata (the bar's last chord
where there is none) is a root-position tonic or dominant triad (the chord of an authentic or
a half cadence). Bars asked to close are set
beside the other bars of the same pieces and beside the same bars of pieces composed
without phrases (same seeds); the last bar, always held, is left out. With ``--bach`` the same
is measured on Bach's chorales bundled with music21 (or --data): the inner bars with a
fermata against their other inner bars.

    python benchmarks/phrases.py [--model PATH] [--pieces 100] [--bars 16] [--every 4] [--bach]
        [--data PATH]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from common import add_data_option, add_model_option, print_header, print_row, reference_rolls

from bachgan.evaluation.harmony_profile import harmony_counts, tonic_of
from bachgan.evaluation.metrics import voice_lines
from bachgan.generation.compose import generate
from bachgan.generation.loading import load_model
from bachgan.roll import Roll
from bachgan.theory import identify_chord, pitch_class_set


def closes(bar: Roll, tonic: int, fermata: int | None = None) -> tuple[bool, bool]:
    """Whether ``bar`` holds a chord for a half note or more, and whether its chord under the
    ``fermata`` (a step of the bar; without one, its last chord struck by every voice) is a
    root-position triad on the ``tonic`` or its dominant."""
    held = harmony_counts(bar)["held chords"] > 0
    lines = voice_lines(bar)
    struck = np.flatnonzero(bar.onsets.any(axis=2).any(axis=0) & (lines >= 0).all(axis=0))
    if fermata is not None:
        struck = struck[struck <= fermata]
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
    """``(pieces x bars, 2)``: :func:`closes` for the ``bars`` (from 0) of every piece, each
    judged at its fermata where it has one."""
    rows = []
    for piece in pieces:
        tonic, length = tonic_of(piece), piece.steps_per_bar
        for bar in bars:
            start = bar * length
            marks = [step - start for step in piece.fermatas if start <= step < start + length]
            piece_bar = piece.slice_steps(bar * length, (bar + 1) * length)
            rows.append(closes(piece_bar, tonic, marks[-1] if marks else None))
    return np.array(rows, dtype=float).reshape(-1, 2)


def bach_rows(meters: list[str], data: str | None) -> None:
    """The table's rows for Bach's chorales (or ``data``) in ``meters``: the inner bars with a
    fermata (as the score reader finds them), and the other inner bars (the last bar left out,
    as for the pieces)."""
    found: dict[str, dict[str, list]] = {m: {"fermata": [], "other": []} for m in meters}
    for roll in reference_rolls("all", data)[0]:
        meter = "{}/{}".format(*roll.time_signature)
        if meter not in found or roll.n_bars < 3:
            continue
        inner = range(roll.n_bars - 1)
        marked = sorted({step // roll.steps_per_bar for step in roll.fermatas} & set(inner))
        found[meter]["fermata"].append(bar_closes([roll], marked))
        found[meter]["other"].append(bar_closes([roll], [b for b in inner if b not in marked]))
    for meter, rows in found.items():
        for label, key in (("Bach, fermata", "fermata"), ("Bach, other", "other")):
            held, cadential = np.concatenate(rows[key]).mean(axis=0)
            count = sum(len(r) for r in rows[key])
            print_row(meter, f"{label} ({count})", f"{held:.2f}", f"{cadential:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_option(parser)
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--every", type=int, default=4, help="phrase length in bars")
    parser.add_argument("--bach", action="store_true", help="also measure Bach's chorales")
    add_data_option(parser)
    args = parser.parse_args()
    model = load_model(args.model)
    asked = list(range(args.every, args.bars, args.every))  # from 1; the last bar always closes
    inner = [bar - 1 for bar in asked]
    others = [bar for bar in range(args.bars - 1) if bar not in inner]
    print(f"{args.pieces} pieces of {args.bars} bars, phrases asked to end in bars {asked}")
    print_header(
        "meter", "bars", "held chord", "I or V root-position triad at the fermata (or last)"
    )
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
            print_row(meter, label, f"{held:.2f}", f"{cadential:.2f}")
    if args.bach:
        bach_rows([f"{beats}/4" for beats in sorted(model.meters, reverse=True)], args.data)


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()

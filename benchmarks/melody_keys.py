"""How often the key a melody is harmonized in is the key Bach wrote it in, for every chorale
soprano of the music21 corpus saved as MIDI without a key signature.

A chorale's key is its final bass note with its key signature (a minor key may carry one flat
fewer, as Bach's Dorian signatures do); chorales that end on another degree (modal endings)
are left out, and so are the few sopranos that divide into two notes. Compares the key finder
of `bachgan harmonize` with the pitch-class profile alone (the key signature whose major scale
holds most notes, then major or relative minor).

    python benchmarks/melody_keys.py [--data PATH]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import add_data_option, print_header, print_row, reference_rolls

from bachgan.errors import BachganError
from bachgan.generation.harmonize import melody_key_signature, melody_line
from bachgan.io.midi import read_midi, write_midi
from bachgan.roll import Roll
from bachgan.theory import key_signature, key_signature_of_histogram, mode_in_signature


def bach_key(roll) -> tuple[int, str] | None:
    """``(fifths, mode)`` of a chorale from its final bass note; ``None`` for a modal end."""
    notes = roll.notes()
    bass = notes.select(notes.track == 3)
    final = int(bass.pitch[np.argmax(bass.start + bass.duration)]) % 12
    fifths = roll.key_fifths
    if final == (7 * fifths) % 12:
        return key_signature(final, "major"), "major"
    if final in ((7 * fifths + 9) % 12, (7 * (fifths - 1) + 9) % 12):
        return key_signature(final, "minor"), "minor"
    return None


def profile_only(melody) -> tuple[int, str]:
    """``(fifths, mode)`` from the melody's duration-weighted pitch classes alone."""
    notes = melody.notes()
    histogram = np.bincount(notes.pitch % 12, weights=notes.duration, minlength=12)
    fifths = key_signature_of_histogram(histogram)
    return fifths, mode_in_signature(histogram, fifths)


def scores(data: str | None) -> list[Roll]:
    """The chorales of the corpus (or ``data``) read from MusicXML files, which carry keys."""
    rolls, names = reference_rolls("all", data)
    return [
        roll for roll, name in zip(rolls, names, strict=True) if name.endswith((".mxl", ".xml"))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    args = parser.parse_args()
    rolls = scores(args.data)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        right, wrong = Counter(), Counter()
        for index, roll in enumerate(rolls):
            key = bach_key(roll) if roll.key_fifths is not None else None
            if key is None:
                continue
            try:
                soprano = replace(melody_line(roll), key_fifths=None, key_mode=None)
            except BachganError:  # a soprano that divides into two notes: not one melody
                continue
            melody = read_midi(write_midi(soprano, folder / f"{index}.mid"))
            for name, found in (
                ("heard (bachgan harmonize)", melody_key_signature(melody_line(melody))),
                ("pitch-class profile alone", profile_only(melody)),
            ):
                right[name] += found == key
                wrong[name] += found != key
    print_header("key finder", "right", "of", "share")
    for name in right:
        total = right[name] + wrong[name]
        print_row(name, right[name], total, f"{right[name] / total:.3f}")


if __name__ == "__main__":
    main()

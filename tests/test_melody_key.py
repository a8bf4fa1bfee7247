"""The key a melody without a key signature is harmonized in: the one a musician hears."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bachgan.errors import BachganError
from bachgan.generation.harmonize import melody_key_signature, melody_line
from bachgan.io.corpus import bach_chorale_paths, load_rolls, prepare
from bachgan.io.melodies import EXAMPLE_MELODIES, example_melody, parse_melody
from bachgan.io.midi import read_midi, write_midi
from bachgan.theory import key_name, key_signature, melody_key

#: Tunes as a keyboard or a DAW would save them (no key signature), with the key they are in.
TUNES = {
    "Ode to Joy in D": ("Ode to Joy (Beethoven)", 0, "D major"),
    "Twinkle in C": ("Twinkle, Twinkle, Little Star", 0, "C major"),
    "Twinkle in F": ("Twinkle, Twinkle, Little Star", 5, "F major"),
    "Frère Jacques in G": ("Frère Jacques", 0, "G major"),
    "Frère Jacques in E flat": ("Frère Jacques", -4, "Eb major"),
    "God Save the King in G": ("God Save the King (3/4)", 0, "G major"),
    "God Save the King in B flat": ("God Save the King (3/4)", 3, "Bb major"),
}
#: Minor tunes: Joshua fit the battle (D minor) and the opening of Greensleeves (A minor).
MINOR_TUNES = {
    "D minor": "D4/1 E4/1 F4/1 G4/1 A4/2 A4/2 G4/2 G4/2 A4/2 A4/2 D4/1 E4/1 F4/1 G4/1 "
    "A4/2 A4/2 G4/2 E4/2 D4/4",
    "A minor": "A4/1 C5/2 D5/1 E5/1.5 F5/0.5 E5/1 D5/2 B4/1 G4/1.5 A4/0.5 B4/1 C5/2 A4/1 "
    "A4/1.5 G#4/0.5 A4/1 B4/2 G#4/1 E4/2 A4/1 C5/2 D5/1 E5/1.5 F5/0.5 E5/1 D5/2 B4/1 "
    "G4/1.5 A4/0.5 B4/1 C5/1.5 B4/0.5 A4/1 G#4/1.5 F#4/0.5 G#4/1 A4/3",
}


@pytest.mark.parametrize("tune", sorted(TUNES))
def test_tunes_without_a_key_signature_are_heard_in_their_key(tune, tmp_path):
    name, semitones, key = TUNES[tune]
    path = write_midi(example_melody(name).transpose(semitones), tmp_path / "tune.mid")
    melody = read_midi(path)
    assert melody.key_fifths is None
    assert key_name(*melody_key_signature(melody_line(melody))) == key


@pytest.mark.parametrize("key", sorted(MINOR_TUNES))
def test_minor_tunes_are_heard_in_minor(key):
    melody = parse_melody(MINOR_TUNES[key], time_signature=(4, 4) if key == "D minor" else (3, 4))
    assert key_name(*melody_key_signature(melody)) == key


def test_a_files_key_signature_and_an_asked_key_win_over_what_is_heard():
    ode = example_melody("Ode to Joy (Beethoven)")
    assert melody_key_signature(replace(ode, key_fifths=-1, key_mode="minor")) == (-1, "minor")
    assert melody_key_signature(ode, key="B minor") == (2, "minor")


def test_phrase_ends_decide_between_a_key_and_its_relative():
    # The notes of C major (and of A minor), cadencing on A at both phrase ends.
    pitches = np.array([60, 62, 64, 65, 64, 62, 60, 57, 59, 60, 62, 64, 60, 59, 57])
    starts = np.arange(len(pitches)) * 4
    durations = np.full(len(pitches), 4)
    assert melody_key(pitches, starts, durations) == (9, "minor")  # it ends on A
    ends_on_c = np.append(pitches[:-1], 60)
    assert melody_key(ends_on_c, starts, durations) == (0, "major")
    # A phrase that closes on A (the note at step 28) weighs less than the last note.
    assert melody_key(ends_on_c, starts, durations, phrase_ends=[28]) == (0, "major")


def test_key_signatures_of_keys_are_the_usual_ones():
    cases = {(2, "major"): 2, (9, "minor"): 0, (7, "minor"): -2, (1, "minor"): 4, (5, "major"): -1}
    assert {key: key_signature(*key) for key in cases} == cases
    assert key_name(-2, "minor") == "G minor" and key_name(3, "major") == "A major"


def chorale_key(roll) -> tuple[int, str] | None:
    """A chorale's key as its final bass note and key signature give it (a minor key may
    carry one flat fewer, as Bach's Dorian signatures do); ``None`` for a modal ending."""
    notes = roll.notes()
    bass = notes.select(notes.track == 3)
    final = int(bass.pitch[np.argmax(bass.start + bass.duration)]) % 12
    fifths = roll.key_fifths
    if final == (7 * fifths) % 12:
        return final, "major"
    if final in ((7 * fifths + 9) % 12, (7 * (fifths - 1) + 9) % 12):
        return final, "minor"
    return None


@pytest.mark.slow
def test_chorale_sopranos_saved_without_a_key_are_heard_in_bachs_key(tmp_path):
    paths = [str(p) for p in bach_chorale_paths() if p.suffix == ".mxl"][:140]
    prepare(paths, tmp_path / "bach.npz", workers=2, progress=False)
    rolls, _ = load_rolls(tmp_path / "bach.npz")
    right = []
    for index, roll in enumerate(rolls):
        key = chorale_key(roll)
        if key is None or roll.key_fifths is None:
            continue
        try:
            soprano = replace(melody_line(roll), key_fifths=None, key_mode=None)
        except BachganError:  # a soprano that divides into two notes is not one melody
            continue
        melody = read_midi(write_midi(soprano, tmp_path / f"soprano_{index}.mid"))
        fifths, mode = melody_key_signature(melody_line(melody))
        right.append((fifths, mode) == (key_signature(*key), key[1]))
    assert len(right) >= 100
    assert np.mean(right) >= 0.95, f"{sum(right)} of {len(right)}"


def test_twinkle_is_whole_and_ends_on_its_tonic():
    twinkle = example_melody("Twinkle, Twinkle, Little Star").notes()
    assert twinkle.pitch[np.argmax(twinkle.start)] % 12 == 0  # C, not the D of its middle
    assert twinkle.start.max() + twinkle.duration[np.argmax(twinkle.start)] == 12 * 16


def test_the_apps_examples_are_heard_in_their_keys():
    heard = {
        name: key_name(*melody_key_signature(example_melody(name))) for name in EXAMPLE_MELODIES
    }
    assert heard == {
        "Ode to Joy (Beethoven)": "D major",
        "Twinkle, Twinkle, Little Star": "C major",
        "Frère Jacques": "G major",
        "God Save the King (3/4)": "G major",
    }

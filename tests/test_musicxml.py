"""MusicXML written from rolls: the notes exactly, parts, clefs, key, spelling, accidentals,
beams, tuplets, voices, same bytes."""

from xml.etree import ElementTree

import numpy as np
import pytest
from conftest import CHORALE_NOTES, make_roll

from bachgan.io.musicxml_writer import spell, write_musicxml
from bachgan.io.score_reader import read_score_conversion
from bachgan.roll import VOICE_NAMES

# A tied note over the bar line (alto, steps 12-20) and a rest (tenor, bar 2).
NOTES = [*CHORALE_NOTES[:4], (1, 70, 0, 12), (1, 70, 12, 8), (1, 67, 20, 12), (2, 58, 0, 16)]
NOTES += [(3, 46, 0, 32)]


def roll(**meta):
    return make_roll(NOTES, track_names=VOICE_NAMES, tempo_bpm=72.0, **meta)


def test_musicxml_holds_the_notes_exactly_and_reads_back(tmp_path):
    path = write_musicxml(roll(key_fifths=-2, key_mode="major"), tmp_path / "piece.musicxml")
    back = read_score_conversion(path).roll
    assert sorted(back.notes().to_tuples()) == sorted(roll().notes().to_tuples())
    assert back.key_fifths == -2 and back.time_signature == (4, 4)


def test_musicxml_has_voice_parts_clefs_and_spells_in_the_key(tmp_path):
    text = write_musicxml(roll(key_fifths=-2), tmp_path / "flat.musicxml").read_text()
    for name in VOICE_NAMES:
        assert f"<part-name>{name}</part-name>" in text
    assert "<clef-octave-change>-1</clef-octave-change>" in text  # the tenor's clef
    assert "<sign>F</sign>" in text  # the bass clef
    assert "<step>B</step>\n          <alter>-1</alter>" in text  # B flat, not A sharp
    assert "<fifths>-2</fifths>" in text
    sharp = write_musicxml(roll(key_fifths=2), tmp_path / "sharp.musicxml").read_text()
    assert "<step>A</step>\n          <alter>1</alter>" in sharp


def test_musicxml_is_the_same_bytes_for_the_same_roll(tmp_path):
    first = write_musicxml(roll(key_fifths=0), tmp_path / "a.musicxml").read_bytes()
    second = write_musicxml(roll(key_fifths=0), tmp_path / "b.musicxml").read_bytes()
    assert first == second


def test_notes_of_any_length_are_written_as_tied_notes_a_score_can_show(tmp_path):
    # Five and seven sixteenths have no single note value; 3/4 bars as well as 4/4.
    odd = [(0, 72, 0, 5), (0, 74, 5, 7), (0, 76, 12, 12), (1, 67, 0, 24)]
    odd += [(2, 60, 0, 24), (3, 48, 0, 24)]
    for meter in ((4, 4), (3, 4)):
        piece = make_roll(odd, 24, track_names=VOICE_NAMES, time_signature=meter)
        path = write_musicxml(piece, tmp_path / f"odd_{meter[0]}.musicxml")
        back = read_score_conversion(path).roll
        assert sorted(back.notes().to_tuples()) == sorted(piece.notes().to_tuples())
        assert back.time_signature == meter


@pytest.mark.parametrize(
    ("pitch", "fifths", "mode", "spelled"),
    [
        (61, -1, "minor", ("C", 1, 4)),  # the leading note of D minor, not D flat
        (63, -1, "minor", ("E", -1, 4)),  # its lowered second (Neapolitan)
        (66, -1, "minor", ("F", 1, 4)),  # its raised third (a major final chord)
        (71, -1, "major", ("B", 0, 4)),  # B natural in F major: the leading note of C
        (70, 0, "major", ("B", -1, 4)),  # the lowered seventh of C major
        (66, 0, "major", ("F", 1, 4)),
        (56, 0, "minor", ("G", 1, 3)),  # G sharp in A minor
        (60, 7, "major", ("B", 1, 3)),  # B sharp in C sharp major, in the octave below C4
        (59, -7, "major", ("C", -1, 4)),  # C flat in C flat major, in the octave above B3
        (75, 3, "major", ("D", 1, 5)),  # D sharp, the leading note of E, in A major
        # The leading notes of the sharp minor keys: never the flat of the note above.
        (65, 3, "minor", ("E", 1, 4)),  # E sharp in F sharp minor
        (60, 4, "minor", ("B", 1, 3)),  # B sharp in C sharp minor, in the octave below C4
        (67, 5, "minor", ("F", 2, 4)),  # F double sharp in G sharp minor
        (62, 6, "minor", ("C", 2, 4)),  # C double sharp in D sharp minor
        (70, 2, "minor", ("A", 1, 4)),  # A sharp in B minor
        (62, -6, "minor", ("D", 0, 4)),  # D natural in E flat minor
    ],
)
def test_pitches_are_spelled_in_the_key(pitch, fifths, mode, spelled):
    assert spell(pitch, fifths, mode) == spelled


def notes_of(path, part=1):
    """``(step, alter, accidental, tie types, beams)`` of each pitched note of a part."""
    tree = ElementTree.parse(path)
    found = []
    for note in tree.getroot().find(f"part[@id='P{part}']").iter("note"):
        if note.find("pitch") is None:
            continue
        found.append(
            (
                note.findtext("pitch/step") + (note.findtext("pitch/alter") or ""),
                note.findtext("accidental"),
                [tie.get("type") for tie in note.findall("tie")],
                [beam.text for beam in note.findall("beam")],
            )
        )
    return found


def test_accidentals_are_printed_as_a_bar_needs_them(tmp_path):
    # C major: C sharp, C sharp again, C natural, then C sharp tied over the bar line, then
    # C sharp again in the new bar.
    soprano = [(0, 73, 0, 4), (0, 73, 4, 4), (0, 72, 8, 4), (0, 73, 12, 8), (0, 73, 20, 4)]
    piece = make_roll(soprano, 32, key_fifths=0, key_mode="major")
    written = notes_of(write_musicxml(piece, tmp_path / "accidentals.musicxml"))
    assert [accidental for _, accidental, _, _ in written] == [
        "sharp",
        None,  # the sharp holds to the end of the bar
        "natural",
        "sharp",
        None,  # tied in from the bar before
        "sharp",  # a new note in the new bar says it again
    ]
    assert [ties for _, _, ties, _ in written][3:5] == [["start"], ["stop"]]


def test_short_notes_are_beamed_by_beat(tmp_path):
    # Two eighths, a dotted eighth and a sixteenth, four sixteenths, an eighth and a quarter
    # (a lone eighth keeps its flag).
    line = [(0, 72, 0, 2), (0, 74, 2, 2), (0, 76, 4, 3), (0, 77, 7, 1)]
    line += [(0, 79, 8 + k, 1) for k in range(4)] + [(0, 77, 12, 2), (0, 76, 14, 2)]
    written = notes_of(write_musicxml(make_roll(line, 16), tmp_path / "beams.musicxml"))
    assert [beams for *_, beams in written] == [
        ["begin"],
        ["end"],
        ["begin"],
        ["end", "backward hook"],
        ["begin", "begin"],
        ["continue", "continue"],
        ["continue", "continue"],
        ["end", "end"],
        ["begin"],
        ["end"],
    ]


@pytest.mark.parametrize(("resolution", "meter"), [(4, (6, 8)), (3, (4, 4)), (12, (2, 2))])
def test_random_pieces_on_any_grid_read_back_to_the_same_notes(tmp_path, resolution, meter):
    """Any note lengths, rests, chords and notes overlapping in one track; grids of three and
    twelve steps per quarter need triplets."""
    rng = np.random.default_rng(resolution)
    notes = []
    for track in range(4):
        time = 0
        while time < 16 * resolution:
            length = int(rng.integers(1, 3 * resolution))
            if rng.random() > 0.2:
                notes.append((track, int(rng.integers(50, 75)), time, length))
            time += length
    notes += [(0, 80, resolution, 2 * resolution), (0, 84, resolution, 2 * resolution)]
    notes += [(0, 82, 2 * resolution, 3 * resolution)]  # overlaps the chord: a second voice
    meta = {"track_names": VOICE_NAMES, "resolution": resolution, "time_signature": meter}
    piece = make_roll(notes, None, **meta)
    path = write_musicxml(piece, tmp_path / "random.musicxml")
    back = read_score_conversion(path, resolution=resolution).roll
    assert sorted(back.notes().to_tuples()) == sorted(piece.notes().to_tuples())
    text = path.read_text()
    assert ("<time-modification>" in text) == (resolution % 2 == 1 or resolution == 12)
    assert "<voice>2</voice>" in text and "<backup>" in text


def test_a_silent_voice_rests_a_whole_bar_in_every_bar(tmp_path):
    piece = make_roll([(0, 72, 0, 16), (1, 67, 0, 16), (3, 48, 0, 32)], 32)
    tree = ElementTree.parse(write_musicxml(piece, tmp_path / "silent.musicxml"))
    tenor = tree.getroot().find("part[@id='P3']")
    assert [len(m.findall("note/rest[@measure='yes']")) for m in tenor.iter("measure")] == [1, 1]


def test_fermatas_read_back_where_they_were_written(tmp_path):
    piece = roll(fermatas=(16, 20))
    back = read_score_conversion(write_musicxml(piece, tmp_path / "fermatas.musicxml")).roll
    assert back.fermatas == (16, 20)

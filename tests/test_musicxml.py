"""MusicXML written from rolls: the notes exactly, parts, clefs, key, spelling, same bytes."""

from conftest import CHORALE_NOTES, make_roll

from bachgan.roll import VOICE_NAMES
from bachgan.scores import read_score_conversion, write_musicxml

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

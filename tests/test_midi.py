import pytest
from conftest import CHORALE_NOTES, make_roll, raw_midi

from bachgan.errors import BadMidiError, SkipFile
from bachgan.io.midi import check_midi_bytes, read_midi, read_midi_conversion, write_midi
from bachgan.roll import Roll


def test_round_trip_is_exact(tmp_path):
    roll = make_roll(time_signature=(4, 4), tempo_bpm=72.0, key_fifths=-2, key_mode="minor")
    once = read_midi(write_midi(roll, tmp_path / "a.mid"))
    twice = read_midi(write_midi(once, tmp_path / "b.mid"))
    for result in (once, twice):
        assert result.notes().to_tuples() == sorted(CHORALE_NOTES)
        assert result.track_names == ("Soprano", "Alto", "Tenor", "Bass")
        assert result.tempo_bpm == 72.0
        assert (result.key_fifths, result.key_mode) == (-2, "minor")


def test_off_grid_notes_are_quantized(tmp_path):
    path = tmp_path / "swing.mid"
    # Ticks per quarter 96: a note at tick 25 (just past a sixteenth) lasting 47 ticks.
    path.write_bytes(raw_midi(b"\x19\x90\x3c\x50\x2f\x80\x3c\x00"))
    assert read_midi(path).notes().to_tuples() == [(0, 60, 1, 2)]


def test_single_polyphonic_track_is_split_into_voices(tmp_path):
    roll = make_roll()
    merged = Roll(
        roll.sounding.any(0, keepdims=True),
        roll.onsets.any(0, keepdims=True),
        track_names=("Piano",),
        programs=(0,),
    )
    path = write_midi(merged, tmp_path / "piano.mid")
    split = read_midi(path, voices=4)
    assert split.n_tracks == 4
    soprano = split.notes().select(split.notes().track == 0)
    assert set(soprano.pitch.tolist()) == {72, 74}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\x00\x01garbage" * 10, "not a MIDI file"),
        (raw_midi(division=0), "ticks per quarter note is 0"),
        (raw_midi(division=0xE728), "SMPTE"),
        (raw_midi(midi_format=2), "format 2"),
        (raw_midi(track_length=10_000), "truncated"),
        (raw_midi()[:-3], "truncated"),
        (b"MThd" + b"\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60", "no track chunks"),
    ],
)
def test_broken_bytes_are_refused_before_parsing(data, reason):
    with pytest.raises(BadMidiError, match=reason):
        check_midi_bytes(data)


def test_valid_bytes_pass():
    check_midi_bytes(raw_midi())


def test_huge_file_is_refused_without_parsing(tmp_path):
    path = tmp_path / "huge.mid"
    path.write_bytes(raw_midi() + b"\x00" * (50 * 2**20))
    with pytest.raises(SkipFile, match="larger than"):
        read_midi(path)


def test_no_notes_and_drums_only(tmp_path):
    empty = tmp_path / "empty.mid"
    empty.write_bytes(raw_midi(b"\x00\xff\x51\x03\x07\xa1\x20"))
    with pytest.raises(SkipFile, match="no notes"):
        read_midi(empty)
    drums = tmp_path / "drums.mid"
    drums.write_bytes(raw_midi(b"\x00\x99\x24\x50\x60\x89\x24\x00"))
    with pytest.raises(SkipFile, match="drums only"):
        read_midi(drums)


def test_drum_notes_are_left_out_and_counted(tmp_path):
    path = tmp_path / "band.mid"
    events = b"\x00\x90\x3c\x50\x00\x99\x24\x50\x60\x80\x3c\x00\x00\x89\x24\x00"
    path.write_bytes(raw_midi(events))
    conversion = read_midi_conversion(path)
    assert conversion.drum_notes == 1
    assert conversion.roll.notes().to_tuples() == [(0, 60, 0, 4)]


def test_notes_outside_the_pitch_range_are_counted(tmp_path):
    path = write_midi(make_roll([(0, 100, 0, 4), (0, 60, 0, 4)], n_steps=16), tmp_path / "x.mid")
    conversion = read_midi_conversion(path, pitch_range=(36, 84))
    assert conversion.notes_out_of_range == 1
    assert len(conversion.roll.notes()) == 1


def test_zero_tempo_is_refused(tmp_path):
    path = tmp_path / "tempo0.mid"
    path.write_bytes(raw_midi(b"\x00\xff\x51\x03\x00\x00\x00\x00\x90\x3c\x50\x60\x80\x3c\x00"))
    with pytest.raises(SkipFile):
        read_midi(path)


def test_directory_named_mid_is_a_skip(tmp_path):
    folder = tmp_path / "folder.mid"
    folder.mkdir()
    with pytest.raises(SkipFile, match="a folder, not a file"):
        read_midi(folder)


def music21_parts(path):
    """The parts of a MIDI file as music21 (and every tool built on it) reads them."""
    import music21

    converter = music21.converter.Converter()
    converter.parseFile(str(path), forceSource=True, storePickle=False)
    return list(converter.stream.parts)


def test_every_part_of_a_three_four_piece_is_read_in_three_four_by_music21(tmp_path):
    from conftest import make_roll

    waltz = make_roll(n_steps=48, time_signature=(3, 4), key_fifths=-1, key_mode="minor")
    parts = music21_parts(write_midi(waltz, tmp_path / "waltz.mid"))
    assert [part.partName for part in parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    for part in parts:
        signatures = part.recurse().getElementsByClass("TimeSignature")
        assert [s.ratioString for s in signatures] == ["3/4"], part.partName
        assert len(part.getElementsByClass("Measure")) == 3, part.partName  # 32 of 36 steps


def test_fermatas_are_kept_through_a_midi_file(tmp_path):
    from conftest import make_roll

    held = make_roll(fermatas=(16, 28))
    back = read_midi(write_midi(held, tmp_path / "held.mid"))
    assert back.fermatas == (16, 28)
    assert back.n_tracks == 4 and sorted(back.notes().to_tuples()) == sorted(
        held.notes().to_tuples()
    )

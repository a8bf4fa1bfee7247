import numpy as np
import pytest
from conftest import make_roll
from PIL import Image

from bachgan.cli import main
from bachgan.errors import BachganError
from bachgan.io.images import (
    image_to_roll,
    read_png,
    roll_to_images,
    seed_training_images,
    write_png,
)
from bachgan.io.midi import read_midi, write_midi


def test_roll_to_images_draws_pitch_rows_and_sixteenth_columns():
    roll = make_roll([(0, 60, 2, 3), (3, 21, 0, 1)], n_steps=250)
    images = roll_to_images(roll)
    assert [i.shape for i in images] == [(106, 100), (106, 100), (106, 50)]
    first = images[0]
    assert first[60 - 21, 2:5].tolist() == [255, 255, 255]
    assert first[60 - 21, [1, 5]].tolist() == [0, 0]
    assert first[0, 0] == 255  # A0 is row 0, at the top
    assert first.sum() == 4 * 255


def test_hand_drawn_image_reads_as_notes(tmp_path):
    image = np.zeros((106, 100), dtype=np.uint8)
    image[60 - 21, 0:4] = 255  # C4, a quarter note
    image[64 - 21, 4:6] = 255  # E4, an eighth
    path = write_png(image, tmp_path / "drawn.png")
    roll = image_to_roll(read_png(path))
    assert roll.notes().to_tuples() == [(0, 60, 0, 4), (0, 64, 4, 2)]


def test_resized_seed_image_is_read_back(tmp_path):
    window = np.zeros((106, 100), dtype=np.uint8)
    window[50, 20:60] = 255
    resized = Image.fromarray(window).resize((106, 106), Image.LANCZOS)
    resized.save(tmp_path / "resized.png")
    cells = read_png(tmp_path / "resized.png")
    assert cells.shape == (106, 100)
    assert cells[50, 21:59].all() and not cells[50, :18].any() and not cells[51].any()


def test_wrong_image_is_a_clear_error(tmp_path):
    Image.new("L", (10, 10)).save(tmp_path / "small.png")
    with pytest.raises(BachganError, match="106"):
        read_png(tmp_path / "small.png")
    (tmp_path / "fake.png").write_text("not an image")
    with pytest.raises(BachganError, match="cannot read"):
        read_png(tmp_path / "fake.png")


def test_cli_both_directions(tmp_path, chorale_midi):
    assert main(["midi2image", str(chorale_midi), str(tmp_path / "images")]) == 0
    png = tmp_path / "images" / "phrase_0.png"
    assert main(["image2midi", str(png), str(tmp_path / "back.mid")]) == 0
    back = read_midi(tmp_path / "back.mid")
    # The format merges voices and repeated notes: C5 held for the first bar is one note.
    assert (0, 72, 0, 8) in back.notes().to_tuples()


def test_every_window_is_written(tmp_path):
    path = write_midi(make_roll([(0, 60, 0, 4), (0, 62, 240, 4)], 256), tmp_path / "long.mid")
    assert main(["midi2image", str(path), str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "long_0.png",
        "long_1.png",
        "long_2.png",
    ]


def test_seed_training_images_are_square_and_binary():
    images = seed_training_images([make_roll(n_steps=100)])
    assert images.shape == (1, 106, 106)
    assert set(np.unique(images)) <= {0.0, 1.0} and images.sum() > 0

"""The seed article's piano-roll PNG images, read and written for compatibility.

An image has 106 pitch rows (row = MIDI pitch - 21, row 0 at the top, as the article draws
them) and one column per sixteenth note; white pixels sound. The article cut each piece into
windows of 100 columns and resized them to 106 x 106; both forms can be read back. An image has
no voices and no onsets: a repeated note reads back as one long note, which is the format's
limit, not ours.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import BachganError
from ..limits import MAX_IMAGE_COLUMNS
from ..roll import Roll
from .files import atomic_write

__all__ = [
    "IMAGE_LOWEST_PITCH",
    "IMAGE_ROWS",
    "WINDOW_COLUMNS",
    "image_to_roll",
    "read_png",
    "roll_to_images",
    "seed_training_images",
    "write_png",
]

IMAGE_ROWS = 106
IMAGE_LOWEST_PITCH = 21
WINDOW_COLUMNS = 100
_IMAGE_RESOLUTION = 4  # one column per sixteenth note


def roll_to_images(roll: Roll) -> list[np.ndarray]:
    """Every 100-column window of ``roll`` as a ``(106, columns)`` uint8 image (0 or 255).

    All tracks are merged; pitches outside 21..126 cannot be drawn and are left out.
    """
    if roll.resolution != _IMAGE_RESOLUTION:
        raise BachganError("seed images need a roll with 4 steps per quarter note")
    merged = roll.sounding.any(axis=0).T  # (pitches, steps)
    canvas = np.zeros((IMAGE_ROWS, roll.n_steps), dtype=np.uint8)
    rows = np.arange(roll.n_pitches) + roll.lowest_pitch - IMAGE_LOWEST_PITCH
    inside = (rows >= 0) & (rows < IMAGE_ROWS)
    canvas[rows[inside]] = np.where(merged[inside], 255, 0)
    return [canvas[:, i : i + WINDOW_COLUMNS] for i in range(0, roll.n_steps, WINDOW_COLUMNS)]


def write_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a ``(rows, columns)`` uint8 image as a greyscale PNG, atomically."""
    with atomic_write(path) as temporary:
        Image.fromarray(image, mode="L").save(temporary, format="PNG")
    return Path(path)


def read_png(path: str | os.PathLike) -> np.ndarray:
    """Read a seed image as a boolean ``(106, 100-or-fewer)`` array of sounding cells.

    A 106 x 106 image is taken to be the article's resized 100-column window and is sampled
    back to 100 columns.
    """
    try:
        with Image.open(path) as opened:
            _check_size(opened.size, path)  # from the header, before decoding any pixel
            pixels = np.asarray(opened.convert("L"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise BachganError(f"cannot read image {path}: {error}") from error
    if pixels.shape[1] == IMAGE_ROWS:
        source = ((np.arange(WINDOW_COLUMNS) + 0.5) * IMAGE_ROWS / WINDOW_COLUMNS).astype(int)
        pixels = pixels[:, source]
    return pixels > 127


def _check_size(size: tuple[int, int], path: str | os.PathLike) -> None:
    columns, rows = size
    if rows != IMAGE_ROWS:
        raise BachganError(f"{path} has {rows} rows; seed images have {IMAGE_ROWS}")
    if columns > MAX_IMAGE_COLUMNS:
        raise BachganError(f"{path} has {columns} columns; at most {MAX_IMAGE_COLUMNS} are read")


def image_to_roll(cells: np.ndarray, tempo_bpm: float = 100.0) -> Roll:
    """Turn a ``(106, columns)`` boolean image into a one-track roll; each horizontal run of
    white cells is one note."""
    sounding = cells.T[None]  # (1, steps, pitches)
    previous = np.zeros_like(sounding)
    previous[:, 1:] = sounding[:, :-1]
    return Roll(
        sounding.copy(),
        sounding & ~previous,
        lowest_pitch=IMAGE_LOWEST_PITCH,
        resolution=_IMAGE_RESOLUTION,
        tempo_bpm=tempo_bpm,
        track_names=("Piano",),
        programs=(0,),
    )


def seed_training_images(rolls: list[Roll], limit: int = 200) -> np.ndarray:
    """The article's training set: the first window of each piece, resized to 106 x 106 with
    anti-aliasing and made 1-bit, as ``(n, 106, 106)`` float32 in {0, 1}."""
    images = []
    for roll in rolls[:limit]:
        window = roll_to_images(roll)[0]
        resized = Image.fromarray(window, mode="L").resize((IMAGE_ROWS, IMAGE_ROWS), Image.LANCZOS)
        images.append((np.asarray(resized.convert("1")) > 0).astype(np.float32))
    return np.stack(images)

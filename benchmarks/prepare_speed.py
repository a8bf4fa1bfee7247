"""Benchmark: MIDI -> representation, bachgan against the seed article's music21 midi2image.

Makes a folder of Bach chorale MIDI files from the music21 corpus (music21's own MIDI writer),
then converts each file with both pipelines, interleaved file by file in one process, and
prints files/s, the ratio, peak traced memory per file and how many of the file's notes each
representation keeps exactly. Finally times `bachgan prepare bach` (or `bachgan prepare
SOURCE` with --source) cold and cached.

    python benchmarks/prepare_speed.py [--files 60] [--source bach]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import symusic
from common import print_header, print_row, timed, traced
from seed_pipeline import LOWEST, WINDOW, seed_midi2image, seed_resize

from bachgan.io.corpus import bach_chorale_paths
from bachgan.io.midi import read_midi_conversion


def make_midi_folder(folder: Path, count: int) -> list[Path]:
    """MIDI files of the first ``count`` four-part Bach chorales, written by music21."""
    from music21 import corpus

    paths = []
    for source in bach_chorale_paths():
        if len(paths) == count:
            break
        score = corpus.parse(str(source))
        if len(score.parts) != 4:
            continue
        target = folder / (source.stem + ".mid")
        score.write("midi", fp=str(target))
        paths.append(target)
    return paths


def source_notes(path: Path) -> list[tuple[int, int, int, int]]:
    """(track, pitch, start, duration) of every note, in sixteenths (exact when on the grid)."""
    score = symusic.Score(str(path))
    step = score.ticks_per_quarter / 4
    notes = []
    for track_index, track in enumerate(t for t in score.tracks if t.note_num()):
        for note in track.notes:
            notes.append((track_index, note.pitch, note.time / step, note.duration / step))
    return notes


def kept_by_bachgan(notes, roll) -> int:
    """How many of ``notes`` the ``roll`` holds exactly."""
    ours = set(roll.notes().to_tuples())
    return sum((t, p, s, d) in ours for t, p, s, d in notes)


def kept_by_seed(notes, images: dict[str, np.ndarray]) -> tuple[int, int]:
    """(kept exactly, merged into a longer run) among ``notes``, from the union of images."""
    canvas = np.zeros((106, WINDOW + 1), dtype=bool)
    for image in images.values():
        canvas[: image.shape[0], :WINDOW] |= image > 0
    kept = merged = 0
    for _, pitch, start, duration in notes:
        if start != int(start) or duration != int(duration) or start + duration > WINDOW:
            continue
        row, begin, end = canvas[pitch - LOWEST], int(start), int(start + duration)
        if not row[begin:end].all():
            continue
        exact = (begin == 0 or not row[begin - 1]) and not row[end]
        kept += exact
        merged += not exact
    return kept, merged


def seed_conversion(path: Path) -> dict[str, np.ndarray]:
    """The article's images of the MIDI file at ``path``, each resized as the article does."""
    images = seed_midi2image(path)
    for matrix in images.values():
        seed_resize(matrix)
    return images


def prepare_wall_times(source: str) -> tuple[float, float]:
    """Seconds of `bachgan prepare SOURCE` with an empty conversion cache, then again."""
    with tempfile.TemporaryDirectory() as scratch:
        environment = {**os.environ, "BACHGAN_CACHE": str(Path(scratch) / "cache")}
        command = [sys.executable, "-m", "bachgan", "prepare", source]
        command += ["--out", str(Path(scratch) / "bach.npz")]
        cold, cached = [
            timed(subprocess.run, command, check=True, env=environment, capture_output=True)[1]
            for _ in range(2)
        ]
    return cold, cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--source", default="bach", help="what `bachgan prepare` is timed on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        paths = make_midi_folder(Path(scratch), args.files)
        totals = {name: [0.0, 0, 0] for name in ("bachgan", "seed")}
        notes_total = kept = seed_kept = seed_merged = 0
        seed_conversion(paths[0])  # warm music21's imports outside the timing
        for path in paths:
            notes = source_notes(path)
            notes_total += len(notes)
            conversion, seconds, peak = traced(read_midi_conversion, path, 4, (21, 108), 4)
            _add(totals["bachgan"], seconds, peak)
            kept += kept_by_bachgan(notes, conversion.roll)
            images, seconds, peak = traced(seed_conversion, path)
            _add(totals["seed"], seconds, peak)
            exact, joined = kept_by_seed(notes, images)
            seed_kept, seed_merged = seed_kept + exact, seed_merged + joined
    rate = {name: len(paths) / t[0] for name, t in totals.items()}
    print(f"{len(paths)} Bach chorale MIDI files, {notes_total} notes, interleaved file by file\n")
    print_header(
        "pipeline", "files/s", "peak traced memory per file", "notes kept exactly", "merged"
    )
    print_row(
        "bachgan (symusic)",
        f"{rate['bachgan']:.1f}",
        f"{totals['bachgan'][1] / 2**20:.2f} MiB",
        f"{kept / notes_total:.1%}",
        0,
    )
    print_row(
        "seed (music21 midi2image + resize)",
        f"{rate['seed']:.2f}",
        f"{totals['seed'][1] / 2**20:.2f} MiB",
        f"{seed_kept / notes_total:.1%}",
        f"{seed_merged / notes_total:.1%}",
    )
    print(f"\nspeed ratio bachgan / seed: {rate['bachgan'] / rate['seed']:.0f}x")
    cold, cached = prepare_wall_times(args.source)
    print(f"`bachgan prepare {args.source}`: cold {cold:.1f} s, cached {cached:.1f} s")


def _add(total: list, seconds: float, peak: int) -> None:
    total[0] += seconds
    total[1] = max(total[1], peak)


if __name__ == "__main__":
    main()

"""Shared fixtures: small MIDI files the tests make themselves, good and broken."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bachgan.io.midi import write_midi
from bachgan.models.conditional import CompletionConfig
from bachgan.roll import Notes, Roll

#: A two-bar, four-voice phrase with a repeated note (soprano) and a unison (alto = soprano).
CHORALE_NOTES = [
    (0, 72, 0, 4),
    (0, 72, 4, 4),
    (0, 74, 8, 8),
    (0, 72, 16, 16),
    (1, 72, 0, 8),
    (1, 67, 8, 8),
    (1, 67, 16, 16),
    (2, 64, 0, 8),
    (2, 62, 8, 4),
    (2, 64, 12, 4),
    (2, 64, 16, 16),
    (3, 48, 0, 8),
    (3, 43, 8, 8),
    (3, 48, 16, 16),
]


#: The sizes of a tiny completion model, for tests of its mechanics.
TINY_COMPLETION = CompletionConfig(
    channels=16, pitch_embedding=8, z_channels=4, critic_channels=16, dilations=(1, 2, 4)
)


def make_roll(notes=CHORALE_NOTES, n_steps: int = 32, **meta) -> Roll:
    """A four-track roll drawn from ``(track, pitch, start, duration)`` tuples."""
    return Roll.from_notes(Notes.from_tuples(notes), 4, n_steps, **meta)


def raw_midi(
    events: bytes = b"\x00\x90\x3c\x50\x60\x80\x3c\x00",
    midi_format: int = 0,
    division: int = 96,
    track_length: int | None = None,
    tracks: int = 1,
) -> bytes:
    """Bytes of a hand-built MIDI file; the defaults make one valid middle-C quarter note."""
    body = events + b"\x00\xff\x2f\x00"
    length = len(body) if track_length is None else track_length
    header = b"MThd" + struct.pack(">IHHH", 6, midi_format, tracks, division)
    return header + (b"MTrk" + struct.pack(">I", length) + body) * tracks


def small_chorale_set(folder: Path, prefix: str, count: int) -> Path:
    """A data set of the first ``count`` Bach chorales whose file names start with ``prefix``."""
    from bachgan.io.corpus import bach_chorale_paths, prepare

    paths = [str(p) for p in bach_chorale_paths() if p.name.startswith(prefix)][:count]
    prepare(paths, folder / "data.npz", workers=2, cache_dir=folder / "cache", progress=False)
    return folder / "data.npz"


def tiny_config(data: Path, out: Path, **overrides):
    """A training run of a tiny model (musegan unless ``arch`` says otherwise) for a few
    steps, for tests of the mechanics."""
    from bachgan.config import TrainConfig

    settings = dict(
        data=str(data),
        out=str(out),
        arch="musegan",
        steps=4,
        batch_size=8,
        n_critic=2,
        model_size="tiny",
        checkpoint_every=2,
        threads=1,
        eval_every=2,
    )
    return TrainConfig(**{**settings, **overrides})


@pytest.fixture(scope="session")
def chorales(tmp_path_factory) -> Path:
    """Sixteen Bach chorales from the music21 corpus, one of them (BWV 229.2) in 3/4, prepared
    once for every test that trains on them."""
    return small_chorale_set(tmp_path_factory.mktemp("chorales"), "bwv2", 16)


@pytest.fixture
def chorale_midi(tmp_path: Path) -> Path:
    """A valid four-track MIDI file of :data:`CHORALE_NOTES`."""
    return write_midi(make_roll(), tmp_path / "phrase.mid")


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own conversion cache."""
    monkeypatch.setenv("BACHGAN_CACHE", str(tmp_path_factory.mktemp("cache")))

"""What the browser app does, without the browser: compose or harmonize a piece, write its
MIDI, WAV and picture, and describe it with metrics beside Bach's. No web code here, so it is
tested directly; :mod:`bachgan.app` puts a Gradio page in front of it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BachganError, SkipFile
from .evaluate import as_windows, load_music
from .harmonize import harmonize_with_fit
from .melodies import EXAMPLE_MELODIES, example_melody
from .metrics import FEATURES, piece_features
from .midi import read_midi
from .originality import BarIndex
from .outputs import write_outputs
from .roll import Roll
from .sample import LoadedModel, generate, load_model, pretrained_path

__all__ = ["LIMITS", "Limits", "Piece", "Studio"]


@dataclass(frozen=True)
class Limits:
    """What one request may ask for, so that no visitor can tie the server up."""

    max_bars: int = 32
    max_candidates: int = 8
    tempo_range: tuple[float, float] = (30.0, 240.0)
    max_upload_bytes: int = 1_000_000
    max_melody_bars: int = 32
    #: Finished pieces kept on disk for download; older ones are deleted.
    kept_pieces: int = 200


LIMITS = Limits()

#: The metrics shown for a piece, with the words a musician would use.
SHOWN_METRICS = {
    "in_key_ratio": "notes in the key",
    "pitch_classes_per_bar": "pitch classes per bar",
    "polyphony": "voices sounding at once",
    "onsets_per_beat": "notes started per beat",
    "parallel_per_bar": "parallel fifths/octaves per bar",
    "voice_crossing_rate": "voice crossings (share of steps)",
    "large_leap_rate": "leaps over an octave (share of intervals)",
}


@dataclass(frozen=True)
class Piece:
    """A finished piece: its roll, files, and rows of (metric, this piece, Bach's chorales)."""

    roll: Roll
    midi: Path
    wav: Path
    picture: Path
    facts: list[tuple[str, str, str]]


@dataclass(frozen=True)
class _Reference:
    """What a piece is compared with: mean metrics of Bach's 4-bar windows, and his bars."""

    means: dict[str, float]
    bars: BarIndex


class Studio:
    """Composes and harmonizes with one loaded model, writing each piece into its own folder
    under ``workdir``. ``reference`` gives the music that pieces are compared with (default:
    the Bach chorales of the training split); it is loaded once, on first use."""

    def __init__(
        self,
        model: LoadedModel | str | os.PathLike | None = None,
        reference: Callable[[], list[Roll]] | None = None,
        workdir: str | os.PathLike | None = None,
        limits: Limits = LIMITS,
    ) -> None:
        self.model = model if isinstance(model, LoadedModel) else load_model(model)
        self.limits = limits
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="bachgan-app-"))
        self._load_reference = reference or (lambda: load_music("bach", split="train"))
        self._reference: _Reference | None = None
        self._lock = threading.Lock()
        self._count = 0

    def compose(
        self, seed: int = 0, bars: int = 8, tempo_bpm: float = 80.0, candidates: int = 1
    ) -> Piece:
        """A new piece; the same settings give the same piece."""
        bars, candidates = int(bars), int(candidates)
        low, high = self.limits.tempo_range
        if not 1 <= bars <= self.limits.max_bars:
            raise BachganError(f"choose between 1 and {self.limits.max_bars} bars")
        if not 1 <= candidates <= self.limits.max_candidates:
            raise BachganError(f"choose between 1 and {self.limits.max_candidates} candidates")
        if not low <= tempo_bpm <= high:
            raise BachganError(f"choose a tempo between {low:g} and {high:g}")
        (roll,) = generate(
            1, bars, int(seed), self.model, tempo_bpm=tempo_bpm, candidates=candidates
        )
        return self._finish(roll, f"chorale_{int(seed)}")

    def harmonize(
        self,
        melody_file: str | os.PathLike | None = None,
        example: str | None = None,
        seed: int = 0,
        progress: Callable[[float], None] | None = None,
    ) -> Piece:
        """Alto, tenor and bass around an uploaded one-voice MIDI file, or around one of the
        bundled :data:`~bachgan.melodies.EXAMPLE_MELODIES` when no file is given."""
        if melody_file:
            melody, name = self._read_upload(Path(melody_file)), Path(melody_file).stem
        elif example in EXAMPLE_MELODIES:
            melody, name = example_melody(example), "example"
        else:
            raise BachganError("upload a MIDI file with a melody, or pick an example")
        if melody.n_bars > self.limits.max_melody_bars:
            raise BachganError(
                f"the melody has {melody.n_bars} bars; at most "
                f"{self.limits.max_melody_bars} can be harmonized here"
            )
        result = harmonize_with_fit(melody, self.model, int(seed), progress=progress)
        return self._finish(result.roll, f"{name}_harmonized")

    def _read_upload(self, path: Path) -> Roll:
        size = path.stat().st_size
        if size > self.limits.max_upload_bytes:
            raise BachganError(
                f"the file is {size / 1e6:.1f} MB; melodies up to "
                f"{self.limits.max_upload_bytes / 1e6:g} MB are accepted"
            )
        try:
            return read_midi(path)
        except SkipFile as skip:
            raise BachganError(f"this file cannot be used as a melody: {skip}") from skip

    def _finish(self, roll: Roll, name: str) -> Piece:
        folder = self._new_folder()
        midi, picture, wav = write_outputs(roll, folder, name)
        return Piece(roll, midi, wav, picture, self.facts(roll))

    def _new_folder(self) -> Path:
        """A fresh folder for one piece; the oldest are removed beyond ``kept_pieces``."""
        with self._lock:
            self._count += 1
            folder = self.workdir / f"{self._count:06d}"
            old = self.workdir / f"{self._count - self.limits.kept_pieces:06d}"
        folder.mkdir(parents=True)
        shutil.rmtree(old, ignore_errors=True)
        return folder

    def facts(self, roll: Roll) -> list[tuple[str, str, str]]:
        """Rows of (metric, this piece, mean of Bach's chorales), originality last."""
        reference = self.reference()
        values = dict(zip(FEATURES, piece_features(roll), strict=True))
        rows = [
            (label, f"{values[name]:.3f}", f"{reference.means[name]:.3f}")
            for name, label in SHOWN_METRICS.items()
        ]
        originality = reference.bars.check(roll)
        rows.append(("bars found in Bach's chorales", f"{originality.copied_bar_fraction:.3f}", ""))
        rows.append(("longest run of copied bars", str(originality.longest_copied_run), ""))
        return rows

    def reference(self) -> _Reference:
        """Bach's numbers, computed once."""
        with self._lock:
            if self._reference is None:
                music = self._load_reference()
                windows = as_windows(music, 4)
                if not windows:
                    raise BachganError("the reference music has no 4-bar windows in 4/4")
                features = np.array([piece_features(w) for w in windows]).mean(axis=0)
                means = dict(zip(FEATURES, features.tolist(), strict=True))
                self._reference = _Reference(means, BarIndex(as_windows(music, 1)))
            return self._reference

    def model_summary(self) -> str:
        """Markdown: which model is loaded, how it was trained, and its model card summary."""
        from .train import load_checkpoint

        source = Path(self.model.source)
        checkpoint = load_checkpoint(source)
        trained = checkpoint.get("train_config", {})
        config = self.model.config
        parameters = sum(p.numel() for p in self.model.generator.parameters())
        minutes = checkpoint.get("elapsed_seconds", 0) / 60
        lines = [
            f"**Model file:** `{source}`",
            f"**Trained:** {self.model.step} generator steps in {minutes:.1f} minutes "
            f"on `{Path(trained.get('data', '?')).name}`",
            f"**Generator:** {parameters:,} parameters; {config.n_voices} voices, "
            f"{config.bars}-bar training windows, {config.generated_steps_per_bar} decisions "
            f"per bar",
        ]
        card = source.with_suffix(".md")
        if source.resolve() == pretrained_path().resolve() and card.exists():
            lines.append(card.read_text(encoding="utf-8"))
        return "\n\n".join(lines)

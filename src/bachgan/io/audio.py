"""Render rolls to audio in-process: symusic's SoundFont synthesizer and a General MIDI bank.

The default SoundFont is ``TimGM6mb.sf2``, which ships inside the ``pretty_midi`` wheel, so no
system package is needed; any ``.sf2`` (such as FluidR3_GM, the seed article's) can be given.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import symusic

from ..errors import BachganError
from ..limits import MAX_AUDIO_SECONDS
from ..roll import Roll
from .files import atomic_write

__all__ = ["SAMPLE_RATE", "default_soundfont", "render_audio", "render_wav", "write_wav"]

SAMPLE_RATE = 44_100


def default_soundfont() -> Path:
    """The General MIDI SoundFont that installs with pretty_midi."""
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def render_audio(
    roll: Roll, soundfont: str | os.PathLike | None = None, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Synthesize ``roll``: float32 stereo samples, shape ``(samples, 2)``, peak at most 0.9."""
    from .midi import to_score

    soundfont = Path(soundfont) if soundfont else default_soundfont()
    if not soundfont.is_file():
        raise BachganError(f"no SoundFont at {soundfont}")
    seconds = roll.n_steps / roll.resolution * 60 / roll.tempo_bpm
    if seconds > MAX_AUDIO_SECONDS:
        raise BachganError(
            f"the piece lasts {seconds / 60:.0f} minutes; audio is rendered for up to "
            f"{MAX_AUDIO_SECONDS / 60:.0f} (a faster tempo or fewer bars, or no audio)"
        )
    try:
        synthesizer = symusic.Synthesizer(sf_path=str(soundfont), sample_rate=sample_rate)
        samples = np.asarray(synthesizer.render(to_score(roll), stereo=True)).T
    except (RuntimeError, ValueError) as error:
        raise BachganError(f"cannot render with {soundfont}: {error}") from error
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    return samples * (0.9 / peak) if peak > 0.9 else samples


def render_wav(
    roll: Roll,
    path: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    sample_rate: int = SAMPLE_RATE,
) -> Path:
    """Write ``roll`` as a 16-bit WAV file (see :func:`write_wav`), atomically."""
    return write_wav(render_audio(roll, soundfont, sample_rate), path, sample_rate)


def write_wav(samples: np.ndarray, path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write float stereo ``samples`` (``(samples, 2)``, within -1..1) as a 16-bit WAV file,
    atomically: one channel when both are the same (the default SoundFont has no stereo
    samples and the voices are not panned, so half the bytes say it all), two otherwise."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    if np.array_equal(pcm[:, 0], pcm[:, 1]):
        pcm = pcm[:, :1]
    with atomic_write(path) as temporary, wave.open(str(temporary), "wb") as out:
        out.setnchannels(pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return Path(path)

"""bachgan: learn music from MIDI with GANs and write original four-voice pieces.

The names that need torch or matplotlib (``generate``, ``harmonize``, ``regenerate``,
``render_wav``, ``plot_roll``) are imported on first use, so that ``import bachgan`` stays quick.
"""

from importlib import import_module

from .errors import BachganError, SkipFile
from .io.corpus import Settings, load_rolls, prepare, save_rolls
from .io.midi import read_midi, write_midi
from .roll import Notes, Roll

__all__ = [
    "BachganError",
    "Notes",
    "Roll",
    "Settings",
    "SkipFile",
    "generate",
    "harmonize",
    "load_rolls",
    "plot_roll",
    "prepare",
    "read_midi",
    "regenerate",
    "render_wav",
    "save_rolls",
    "write_midi",
]
__version__ = "0.1.0"

_LAZY = {
    "generate": "generation.compose",
    "harmonize": "generation.harmonize",
    "regenerate": "generation.regenerate",
    "render_wav": "io.audio",
    "plot_roll": "io.pictures",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'bachgan' has no attribute {name!r}")

"""bachgan: learn music from MIDI with GANs and write original four-voice pieces."""

from .corpus import Settings, load_rolls, prepare, save_rolls
from .errors import BachganError, SkipFile
from .midi import read_midi, write_midi
from .roll import Notes, Roll

__all__ = [
    "BachganError",
    "Notes",
    "Roll",
    "Settings",
    "SkipFile",
    "load_rolls",
    "prepare",
    "read_midi",
    "save_rolls",
    "write_midi",
]
__version__ = "0.1.0"

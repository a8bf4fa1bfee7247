"""The errors a user can cause. The command line prints them as one line and exits with 2."""

from __future__ import annotations

__all__ = ["BachganError", "BadMidiError", "SkipFile"]


class BachganError(Exception):
    """A problem with the user's input or environment; the message says what to do."""


class SkipFile(Exception):
    """One input file cannot be used; the message is the reason given in the skip report."""


class BadMidiError(SkipFile):
    """The bytes are not a MIDI file that can be read safely."""

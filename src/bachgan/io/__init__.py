"""Reading and writing music and models: MIDI, MusicXML, scores, pictures, audio, data sets."""

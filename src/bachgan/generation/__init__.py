"""Writing music with a trained model: loading it, composing, harmonizing, regenerating."""

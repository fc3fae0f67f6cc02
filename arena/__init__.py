"""Arena: live human-preference evaluation of generative models (text, search, image, music)."""

__version__ = "0.1.0"

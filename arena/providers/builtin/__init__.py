"""Built-in offline models for every modality: the embedded default that needs no keys and no network.

Each module holds one model (or one piece shared by several); assets live in `assets/` next to this file and
are loaded lazily, once per provider instance. See docs/builtin-models.md for what each model is and how good
it is.
"""

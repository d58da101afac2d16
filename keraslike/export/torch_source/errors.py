"""The error for what has no torch-source translation."""


class Untranslatable(ValueError):
    """A layer (or a configuration of it) that has no torch-source translation."""

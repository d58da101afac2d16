"""Atomic file writes for the savers; the code lives in `keraslike.backend.atomic_files` so that
callbacks (which sit above `saving/`, see keraslike/README.md) write their files the same way."""

from keraslike.backend.atomic_files import (  # noqa: F401
    atomic_path,
    atomic_write,
    remove_stale,
    temp_prefix,
)

"""Models: the functional `Model` and `Sequential`."""

from keraslike.models.functional import Model
from keraslike.models.sequential import Sequential

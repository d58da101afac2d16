"""Models: the functional `Model` and `Sequential`."""

from keraslike.models.functional import Model
from keraslike.models.sequential import Sequential
from keraslike.models.cloning import clone_model
from keraslike.saving import load_model, model_from_json, save_model

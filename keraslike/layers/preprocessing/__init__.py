"""Preprocessing layers: Rescaling, Normalization, CenterCrop, Resizing."""

from keraslike.layers.preprocessing.image import CenterCrop, Resizing
from keraslike.layers.preprocessing.normalization import Normalization
from keraslike.layers.preprocessing.rescaling import Rescaling

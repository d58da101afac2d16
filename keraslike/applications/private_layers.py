"""The layers the applications define for themselves (Keras keeps them private to each family).

Saved models name them by class under `keras.src.applications.<family>` (Keras) or
`keraslike.applications.<module>`; the package root looks them up here when loading.
"""

from keraslike.applications.convnext_layers import LayerScale, StochasticDepth
from keraslike.applications.inception_resnet_v2 import CustomScaleLayer

__all__ = ["CustomScaleLayer", "LayerScale", "StochasticDepth"]

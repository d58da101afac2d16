"""keraslike: the Keras functional API, running on PyTorch.

`import keraslike as keras`, and Keras code runs: `keras.Input`, layer calls, `keras.Model`,
`compile / fit / evaluate / predict`, saving. Every model is a real `torch.nn.Module`.
"""

from keraslike import (
    activations,
    applications,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    regularizers,
    saving,
    utils,
)
from keraslike.backend import config
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers import Input, InputLayer, Layer
from keraslike.models import Model, Sequential

from keraslike._version import __version__

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
    export,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    tree,
    utils,
)
from keraslike.backend import config
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers import Input, InputLayer, Layer
from keraslike.models import Model, Sequential

from keraslike._version import __version__

from keraslike._api_gaps import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("keraslike")

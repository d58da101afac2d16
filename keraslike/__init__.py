"""keraslike: the Keras functional API, running on PyTorch.

`import keraslike as keras`, and Keras code runs: `keras.Input`, layer calls, `keras.Model`,
`compile / fit / evaluate / predict`, saving. Every model is a real `torch.nn.Module`.
"""

from keraslike import (
    activations,
    backend,
    callbacks,
    constraints,
    distribution,
    dtype_policies,
    export,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    quantizers,
    random,
    regularizers,
    saving,
    tree,
    utils,
)
from keraslike import config
from keraslike.backend.device import device, name_scope
from keraslike.backend.remat import RematScope, remat
from keraslike.function import Function
from keraslike.graph.operation import Operation
from keraslike.initializers import Initializer
from keraslike.layers import InputSpec
from keraslike.losses import Loss
from keraslike.metrics import Metric
from keraslike.optimizers import Optimizer
from keraslike.regularizers import Regularizer
from keraslike.variables import Variable
from keraslike.dtype_policies import DTypePolicy, FloatDTypePolicy
from keraslike.quantizers import Quantizer
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers import Input, InputLayer, Layer
from keraslike.models import Model, Sequential
from keraslike.serialization import registry as _registry

from keraslike._version import __version__


def version():
    """Returns the keraslike version string."""
    return __version__



def _register_builtins():
    """Fills the tables `keraslike.serialization` looks names up in (it imports none of these)."""
    classes = {
        name: obj
        for name, obj in vars(layers).items()
        if isinstance(obj, type) and issubclass(obj, Layer) and not name.startswith("_")
    }
    classes.update({"Model": Model, "Functional": Model, "Sequential": Sequential})
    _registry.register_builtin_layers(classes)
    _registry.register_lazy_layers(layers._load_lazy.exported, _lazy_layer)
    for package, modules in (
        (optimizers, ("keras.optimizers", "keras.src.optimizers", "keras.src.backend.torch.optimizers")),
        (initializers, ("keras.initializers", "keras.src.initializers")),
        (regularizers, ("keras.regularizers", "keras.src.regularizers")),
        (constraints, ("keras.constraints", "keras.src.constraints")),
        (activations, ("keras.activations", "keras.src.activations")),
        (losses, ("keras.losses", "keras.src.losses")),
        (metrics, ("keras.metrics", "keras.src.metrics")),
    ):
        _registry.register_deserializer(modules, package.deserialize)
    _registry.register_serializer(optimizers.Optimizer, optimizers.serialize)
    # Keras exports it from both namespaces; mixed_precision sits below optimizers.
    mixed_precision.LossScaleOptimizer = optimizers.LossScaleOptimizer
    _registry.register_function_namespace(
        ("keras.activations", "keras.src.activations", "keraslike.activations"), activations.get
    )
    # The applications' private layers (ConvNeXt's LayerScale, StochasticDepth), saved by Keras
    # under keras.src.applications.<family> and by keraslike under keraslike.applications.
    _registry.register_class_namespace(
        ("keras.src.applications", "keraslike.applications"), _application_layer
    )
    _registry.register_class_namespace(
        ("keras.distillation", "keras.src.distillation", "keraslike.distillation"),
        lambda name: getattr(_load_lazy("distillation"), name, None),
    )


def _lazy_layer(name):
    """The built-in layer `keras.layers.<name>` of a family that loads on first use, or `None`."""
    cls = getattr(layers, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, Layer) else None


def _application_layer(class_name):
    """A private layer class of `keraslike.applications` called `class_name`, or `None`."""
    cls = getattr(_load_lazy("applications").private_layers, class_name, None)
    return cls if isinstance(cls, type) and issubclass(cls, Layer) else None


_register_builtins()

from keraslike._api_gaps import module_getattr as _module_getattr  # noqa: E402
from keraslike._lazy import lazy_submodules as _lazy_submodules  # noqa: E402

# Families a user may never touch are imported on first access (keraslike/README.md).
_load_lazy = _lazy_submodules("keraslike", ("applications", "datasets", "distillation", "legacy", "preprocessing", "visualization", "wrappers"))
__getattr__ = _module_getattr("keraslike", fallback=_load_lazy)


def __dir__():
    return sorted(set(globals()) | _load_lazy.names)

"""Weight initializers: Keras 3's classes, defaults, formulas and configs, producing torch tensors.

Every initializer is called as `init(shape, dtype=None)` with a shape in KERAS layout (a Dense kernel
is `(input_dim, units)`, a Conv2D kernel `(kh, kw, in, out)`) and returns a CPU `torch.Tensor`;
a layer that stores the weight in torch's layout transposes the result once, at build time.

Randomness. An initializer built with an integer `seed` draws from its own `torch.Generator`
seeded with it, so every call returns the same values; these values equal Keras 3's (torch backend,
CPU) for the same seed. An unseeded initializer draws from torch's global generator, so
`torch.manual_seed(...)` makes a model's initial weights reproducible, and two layers sharing one
unseeded initializer get different weights. (Keras instead fixes a random seed when an unseeded
initializer is built, so each of its calls repeats the same values.)
"""

import numpy as np
import torch

from keraslike.initializers.constant_initializers import Constant, Identity, Ones, Zeros
from keraslike.initializers.initializer import (
    _MODULE,
    _shape,
    _torch_dtype,
    compute_fans,
    Initializer,
)
from keraslike.initializers.random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)
from keraslike.initializers.stft_initializer import STFT
from keraslike.serialization.objects import deserialize_object, serialize_object
from keraslike.serialization.registry import get_registered_object


# Lowercase aliases, as exported by Keras (they are the classes themselves).
constant = Constant
zeros = Zeros
ones = Ones
identity = Identity
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
he_uniform = HeUniform
he_normal = HeNormal
orthogonal = Orthogonal
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT
stft = STFT

ALL_OBJECTS_DICT = {
    cls.__name__: cls
    for cls in (
        Initializer, Constant, Zeros, Ones, Identity, RandomNormal, RandomUniform, TruncatedNormal,
        VarianceScaling, GlorotUniform, GlorotNormal, LecunUniform, LecunNormal, HeUniform,
        HeNormal, Orthogonal, STFT,
    )
}
ALL_OBJECTS_DICT.update(
    {
        "initializer": Initializer,
        "constant": Constant,
        "zeros": Zeros,
        "zero": Zeros,
        "ones": Ones,
        "one": Ones,
        "identity": Identity,
        "IdentityInitializer": Identity,
        "random_normal": RandomNormal,
        "normal": RandomNormal,
        "random_uniform": RandomUniform,
        "uniform": RandomUniform,
        "truncated_normal": TruncatedNormal,
        "variance_scaling": VarianceScaling,
        "glorot_uniform": GlorotUniform,
        "glorot_normal": GlorotNormal,
        "lecun_uniform": LecunUniform,
        "lecun_normal": LecunNormal,
        "he_uniform": HeUniform,
        "he_normal": HeNormal,
        "orthogonal": Orthogonal,
        "OrthogonalInitializer": Orthogonal,
        "STFTInitializer": STFT,
    }
)
_BUILTIN_CLASSES = frozenset(ALL_OBJECTS_DICT.values())
_UNKNOWN_HINT = (
    "Please ensure you are using a `keras.utils.custom_object_scope` and that this object is "
    "included in the scope, or pass it in `custom_objects`."
)


def serialize(initializer):
    """Returns the initializer's configuration in Keras 3's serialized-object format.

    Args:
        initializer: An `Initializer` instance (or `None`).

    Returns:
        A dict `{"module", "class_name", "config", "registered_name"}`, as Keras 3 writes it.

    Example:

    >>> keras.initializers.serialize(keras.initializers.GlorotUniform())
    {'module': 'keras.initializers', 'class_name': 'GlorotUniform',
     'config': {'seed': None, 'input_axes': None, 'output_axes': None}, 'registered_name': None}
    """
    if initializer is None:
        return None
    return serialize_object(initializer, _MODULE, _BUILTIN_CLASSES, kind="initializer")


def deserialize(config, custom_objects=None):
    """Returns an initializer instance from its serialized form.

    Args:
        config: A dict from `serialize()` (Keras 3 or Keras 2 style `{"class_name", "config"}`),
            or a class name string.
        custom_objects: Optional dict mapping names to custom classes.

    Returns:
        An initializer instance.

    Example:

    >>> keras.initializers.deserialize({"class_name": "Ones", "config": {}})
    Ones()
    """
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, kind="initializer",
                              unknown_hint=_UNKNOWN_HINT)


def get(identifier):
    """Retrieves an initializer from an identifier.

    Args:
        identifier: `None`, a name (`"glorot_uniform"`, `"GlorotUniform"`), a serialized dict, an
            initializer class (instantiated with defaults), an instance or any callable
            `fn(shape, dtype=None)`, or a tensor / NumPy array giving the values directly.

    Returns:
        An initializer (or callable), or `None` when `identifier` is `None`.

    Example:

    >>> init = keras.initializers.get("he_normal")
    >>> kernel = init((64, 32))
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        cls = get_registered_object(identifier, None, ALL_OBJECTS_DICT)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        obj = cls()
    elif isinstance(identifier, (torch.Tensor, np.ndarray, np.generic)):
        values = torch.as_tensor(identifier)

        def initialize_fn(shape, dtype=None):
            if _shape(shape) != tuple(values.shape):
                raise ValueError(
                    f"Expected `shape` to be {tuple(values.shape)} for direct tensor as "
                    f"initializer. Received shape={shape}"
                )
            return values.to(device="cpu", dtype=_torch_dtype(dtype), copy=True)

        obj = initialize_fn
    else:
        obj = identifier
    if callable(obj):
        return obj() if isinstance(obj, type) else obj
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")

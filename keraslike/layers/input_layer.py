"""InputLayer and `keras.Input`: the entry points of a functional graph."""

from keraslike.backend import config
from keraslike.backend.dtypes import standardize_dtype
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.node import Node
from keraslike.graph.shape_inference import dtype_name, torch_dtype
from keraslike.layers.layer import Layer


def _standardize_shape(shape):
    if not isinstance(shape, (tuple, list)):
        raise ValueError(f"Cannot convert '{shape}' to a shape: a tuple or list is required.")
    result = []
    for d in shape:
        if d is None:
            result.append(None)
            continue
        if isinstance(d, bool) or not isinstance(d, int):
            if hasattr(d, "__index__") and not isinstance(d, bool):
                d = int(d)
            else:
                raise ValueError(
                    f"Cannot convert '{tuple(shape)}' to a shape. Found invalid dimension "
                    f"'{d}' of type '{type(d)}'."
                )
        if d < 0:
            raise ValueError(
                f"Cannot convert '{tuple(shape)}' to a shape. Negative dimensions are not allowed."
            )
        result.append(d)
    return tuple(result)


class InputLayer(Layer):
    """The layer behind `keras.Input`: it has no weights and produces the graph's input tensor.

    Args:
        shape: Shape without the batch dimension (a tuple; `None` for unknown sizes).
        batch_size: Optional fixed batch size.
        dtype: The input's dtype (`"float32"` by default).
        batch_shape: Full shape including the batch dimension (instead of `shape`).
        name: The layer's (and the tensor's) name.
        optional: Whether the input may be `None`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        input_tensor=None,
        optional=False,
        name=None,
        ragged=False,
        **kwargs,
    ):
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name or None, dtype=None, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `shape` and `batch_shape` at the same time. "
                f"Received: shape={shape}, batch_shape={batch_shape}"
            )
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument to `Input`.")
        if batch_shape is not None:
            batch_shape = _standardize_shape(batch_shape)
        else:
            batch_shape = _standardize_shape((batch_size,) + _standardize_shape(shape))
        self.batch_shape = batch_shape
        if dtype is not None:  # a NumPy or torch dtype too, as Keras takes them
            dtype = dtype_name(torch_dtype(standardize_dtype(dtype)))
        self._input_dtype = dtype if dtype is not None else config.floatx()
        self.optional = optional
        self.sparse = bool(sparse)
        if self.sparse:  # as Keras on torch (a dense input would silently stand for it)
            raise ValueError(
                f'InputLayer "{self.name}": `sparse=True` is not supported with the torch backend '
                "(keraslike tensors are dense)."
            )
        if ragged:
            raise ValueError(
                f'InputLayer "{self.name}": `ragged=True` is not supported with the torch backend.'
            )
        self.built = True
        tensor = KerasTensor(batch_shape, dtype=self._input_dtype, name=name)
        Node(self, (), {}, tensor)
        self._input_tensor = tensor

    @property
    def dtype(self):
        return self._input_dtype

    def call(self, *args, **kwargs):
        raise ValueError(f'InputLayer "{self.name}" is not meant to be called.')

    def get_config(self):
        return {
            "batch_shape": self.batch_shape,
            "dtype": self._input_dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }


def Input(
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    ragged=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional=False,
):
    """Returns a symbolic tensor that stands for a model input.

    Args:
        shape: Shape tuple without the batch dimension, e.g. `(784,)`; `None` for unknown sizes.
        batch_size: Optional fixed batch size.
        dtype: The expected dtype (`"float32"` by default).
        sparse: Only `None`/`False`: sparse inputs are not supported on torch (a ValueError).
        ragged: Only `None`/`False`: ragged inputs are not supported on torch (a ValueError).
        batch_shape: Full shape including the batch dimension, instead of `shape`.
        name: Name of the input (the key of this input when a model is given a dict).
        optional: Whether the input may be `None` when the model is called.

    Returns:
        A `KerasTensor` with `.shape` (a tuple, batch dimension first), `.dtype` and `.name`.

    Example:

    ```python
    inputs = keras.Input(shape=(784,))
    inputs.shape  # (None, 784)
    ```
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        ragged=ragged,
        batch_shape=batch_shape,
        name=name,
        optional=optional,
    )
    return layer._input_tensor

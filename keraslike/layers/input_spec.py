"""InputSpec: what a layer accepts, checked when it is called (Keras's `keras.layers.InputSpec`)."""

import torch

_is_compiling = torch.compiler.is_compiling


class InputSpec:
    """Specifies the rank, dtype and shape of every input to a layer.

    Args:
        dtype: Expected dtype string, or `None`.
        shape: Expected shape tuple (`None` for any size), or `None`.
        ndim: Expected rank, or `None`.
        max_ndim: Maximum rank, or `None`.
        min_ndim: Minimum rank, or `None`.
        axes: Dict mapping axes (int, may be negative) to their expected size.
        allow_last_axis_squeeze: Accept a rank one lower with the last axis squeezed.
        name: Expected name of the input, for dict inputs.
        optional: Whether the input may be `None`.
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def __setattr__(self, name, value):
        # Any change forgets the last shape found compatible (`assert_input_compatibility`).
        self.__dict__["_accepted_shape"] = None
        self.__dict__[name] = value

    def __repr__(self):
        fields = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
        parts = [f"{f}={getattr(self, f)}" for f in fields if getattr(self, f)]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        """Returns the spec as a dict."""
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }


def _incompatible(index, layer_name, detail, shape):
    return ValueError(
        f'Input {index} of layer "{layer_name}" is incompatible with the layer: {detail}. '
        f"Full shape received: {tuple(shape)}"
    )


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raises a Keras-style ValueError when `inputs` do not match `input_spec`.

    Args:
        input_spec: An `InputSpec`, a list of them, or `None`.
        inputs: A tensor (torch or symbolic) or a flat list of them.
        layer_name: Named in the message.
    """
    if not input_spec:
        return
    if type(inputs) is torch.Tensor and type(input_spec) is InputSpec and not _is_compiling():
        # An eager layer called again on the shape it accepted last: the checks would give the
        # same answer. (Layers change a spec by reassigning it or its fields, which forgets the
        # shape; under `torch.compile` nothing is recorded: the trace checks shapes once.)
        shape = inputs.shape
        if shape == input_spec._accepted_shape:
            return
        _check_all([input_spec], [inputs], layer_name)
        input_spec.__dict__["_accepted_shape"] = shape
        return
    _check_all(
        input_spec if isinstance(input_spec, (list, tuple)) else [input_spec],
        inputs if isinstance(inputs, (list, tuple)) else [inputs],
        layer_name,
    )


def _check_all(specs, tensors, layer_name):
    if len(tensors) != len(specs):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
            f"{len(tensors)} input tensors."
        )
    for index, (spec, x) in enumerate(zip(specs, tensors)):
        if spec is None or x is None:
            continue
        shape = tuple(x.shape)
        ndim = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise _incompatible(index, layer_name, f"expected ndim={spec.ndim}, found ndim={ndim}", shape)
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise _incompatible(
                index, layer_name, f"expected max_ndim={spec.max_ndim}, found ndim={ndim}", shape
            )
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise _incompatible(
                index, layer_name, f"expected min_ndim={spec.min_ndim}, found ndim={ndim}", shape
            )
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if axis >= ndim or axis < -ndim:
                raise _incompatible(
                    index, layer_name, f"expected axis {axis} of input shape to exist", shape
                )
            if shape[axis] is not None and shape[axis] != value:
                raise _incompatible(
                    index,
                    layer_name,
                    f"expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {shape}",
                    shape,
                )
        if spec.shape is not None:
            for expected, actual in zip(spec.shape, shape):
                if expected is not None and actual is not None and expected != actual:
                    raise _incompatible(
                        index,
                        layer_name,
                        f"expected shape={spec.shape}, found shape={shape}",
                        shape,
                    )

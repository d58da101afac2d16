"""TorchModuleWrapper: any `torch.nn.Module` as a Keras layer (Keras 3's torch-backend API)."""

import torch

from keraslike.graph import keras_tensor
from keraslike.layers.layer import Layer


class TorchModuleWrapper(Layer):
    """Torch module wrapper layer: turns any `torch.nn.Module` into a Keras layer.

    The module's parameters are the layer's weights (trainable unless `requires_grad` is off):
    they appear in `weights`, `trainable_weights`, `count_params()` and `summary()`, are trained
    by `fit` and saved with the model's state. A plain torch module called on a KerasTensor is
    wrapped in one automatically. As in Keras, the module runs in train mode unless the call's
    `training` is `False` (so `predict` and `evaluate` run it in eval mode).

    Args:
        module: The `torch.nn.Module` to wrap. A `LazyModule` must be initialized first
            (called once).
        output_shape: The shape of the output, batch dimension included; when `None` it is
            found by running the module on shape-only tensors.
        name: The name of the layer.

    Example:

    ```python
    inputs = keras.Input((4,))
    x = keras.layers.TorchModuleWrapper(torch.nn.Linear(4, 8))(inputs)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    ```
    """

    def __init__(self, module, name=None, output_shape=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(module, torch.nn.Module):
            raise ValueError(
                "Argument `module` of TorchModuleWrapper must be a `torch.nn.Module`. "
                f"Received: module={module!r} of type {type(module).__name__}"
            )
        lazy = isinstance(module, torch.nn.modules.lazy.LazyModuleMixin)
        if lazy and module.has_uninitialized_params():
            raise ValueError(
                "LazyModules are not supported unless they are already initialized. "
                f"Received uninitialized LazyModule: module={module}"
            )
        self.module = module
        self.output_shape = tuple(output_shape) if output_shape is not None else None
        self.built = True

    def call(self, *args, training=None, **kwargs):
        mode = training is not False  # Keras: eval mode only for an explicit `training=False`
        if self.module.training != mode:
            self.train(mode)
        return self.module(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        if self.output_shape is None:
            return Layer.compute_output_spec(self, *args, **kwargs)
        return keras_tensor.KerasTensor(self.output_shape, dtype=self.compute_dtype)

    def get_config(self):
        """Not available: Keras stores the module with `torch.save` (pickle), which keraslike
        never writes. Save the weights (`save_weights`, or the model's state) and rebuild the
        module in code.

        Raises:
            NotImplementedError: Always.
        """
        raise NotImplementedError(
            f'TorchModuleWrapper "{self.name}" cannot put its torch module '
            f"({type(self.module).__name__}) in a config: Keras pickles it with `torch.save`, "
            "and keraslike never pickles. Save the weights (`model.save_weights(...)`) and build "
            "the module in code, e.g. in a custom layer registered with "
            "`keras.saving.register_keras_serializable`."
        )

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Creates the wrapper from a config holding a `torch.nn.Module` instance.

        Raises:
            ValueError: When the config holds Keras's pickled module (a base64 string):
                keraslike never unpickles.
        """
        module = config.get("module")
        if not isinstance(module, torch.nn.Module):
            raise ValueError(
                "Requested the deserialization of a `torch.nn.Module` object via "
                "`torch.load()`. This carries a potential risk of arbitrary code execution, and "
                "keraslike never unpickles data. Build the module in code and pass it as "
                f"`module`. Received: module of type {type(module).__name__}"
            )
        return cls(**config)


def _wrap_and_call(module, args, kwargs):
    # A plain torch module called on KerasTensors: wrap it, as Keras's torch backend does.
    return TorchModuleWrapper(module)(*args, **kwargs)


keras_tensor.register_module_wrapper(_wrap_and_call)

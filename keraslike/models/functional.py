"""Model: a Layer built from a graph of layer calls (the functional API), or subclassed.

`Model(inputs, outputs)` walks the graph once (`graph.topology`), checks it, and compiles it into
an `ExecutionPlan`; `forward` then only standardizes the inputs and runs the plan.
"""

import numpy as np
import torch

from keraslike import export, saving
from keraslike.backend.errors import ArgumentTypeError
from keraslike.backend.naming import to_snake_case, uniquify
from keraslike.backend.traceback_utils import filter_traceback
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.plan import ExecutionPlan, with_mask_of
from keraslike.graph.shape_inference import infer_output_spec, torch_dtype
from keraslike.graph.topology import check_unique_names, map_graph
from keraslike.layers.input_layer import InputLayer
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import WeightProbe
from keraslike.models.functional_config import functional_config, functional_from_config
from keraslike.models.intermediate_inputs import with_input_tensors
from keraslike.models.quantize import quantize_model
from keraslike.trainers.trainer import Trainer
from keraslike.tree.tree_api import map_shape_structure
from keraslike.utils.summary_utils import print_summary


# `model(x)` tests `type(x) is _PLAIN_TENSOR` (eagerly: a trace only sees tensors, and there dynamo
# reaches `type(x)` through a global of its own: a second path to the class, which costs a Python
# guard on every compiled call).
_PLAIN_TENSOR = torch.Tensor
_is_compiling = torch.compiler.is_compiling


def _check_symbolic(structure, what):
    for x in nest.flatten(structure):
        if not isinstance(x, KerasTensor):
            raise ValueError(
                f"All `{what}` values must be KerasTensors (from `keras.Input` or a layer call). "
                f"Received: {what}={structure!r} including invalid value {x!r} of type {type(x)}"
            )
        if x._keras_history is None:
            raise ValueError(f"The {what} tensor {x!r} was not produced by `keras.Input` or a layer.")


class Model(Trainer, Layer):
    """A model: a graph of layers with `fit`, `evaluate`, `predict`, `save` and `summary`.

    Either give it the inputs and outputs of a graph built from `keras.Input` and layer calls
    (the functional API), or subclass it and define `call`.

    Args:
        inputs: A KerasTensor, or a list or dict of them.
        outputs: A KerasTensor, or a list or dict of them, computed from `inputs`.
        name: The model's name (`"functional"`, `"functional_1"`, ... by default).

    Example:

    ```python
    inputs = keras.Input(shape=(784,))
    x = keras.layers.Dense(64, activation="relu")(inputs)
    outputs = keras.layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    ```
    """

    _records_build_arguments = False  # a model's build config is its own (see `Layer`)

    _casts_mixed_outputs = False  # as Keras: a model's outputs are in its layers' dtypes
    # A call checks the inputs' known non-batch sizes against the model's Inputs (Keras's input
    # spec). Sequential overrides it: Keras checks its rank only and leaves sizes to its layers.
    _checks_all_input_sizes = True

    @property
    def _allow_non_tensor_positional_args(self):
        # A graph model checks each input itself and names it (`_convert_input`); a subclassed
        # model's call gets Keras's rule.
        return self.__dict__.get("_plan") is not None

    @filter_traceback
    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if len(args) > 2:
            raise TypeError(f"Model takes at most 2 positional arguments (inputs, outputs); got {len(args)}.")
        name = kwargs.pop("name", None)
        is_graph = inputs is not None or outputs is not None
        if name is None:
            # Keras: a graph model of class `Model` is "functional"; a subclass's takes its name.
            base = "functional" if type(self) is Model else to_snake_case(type(self).__name__)
            name = uniquify(base)
        super().__init__(name=name, **kwargs)
        self._plan = None
        self.compiled = False
        if is_graph:
            if inputs is None or outputs is None:
                raise ValueError("A functional Model needs both `inputs` and `outputs`.")
            self._init_graph(inputs, outputs)

    # ------------------------------------------------------------------ graph construction

    def _init_graph(self, inputs, outputs):
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        _check_symbolic(inputs, "inputs")
        _check_symbolic(outputs, "outputs")
        inputs, outputs = with_input_tensors(inputs, outputs)
        # As Keras's Functional: inputs pass on uncast; each layer casts its own.
        self._convert_input_args = False
        self._refresh_autocast()
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        flat_inputs = nest.flatten(inputs)
        flat_outputs = nest.flatten(outputs)
        graph = map_graph(flat_inputs, flat_outputs)
        self._graph = graph
        self._operations = graph.operations
        self._layers = [op for op in graph.operations if isinstance(op, Layer)]
        check_unique_names(self._layers, self.name)
        for layer in self._layers:
            if isinstance(layer, InputLayer):
                continue
            if "." in layer.name:
                raise ValueError(f'Layer name "{layer.name}" contains ".", which torch modules forbid.')
            self._modules[layer.name] = layer  # direct: a layer may be named like a Model attribute
        self._input_layers = [t._keras_history[0] for t in flat_inputs]
        self._flat_inputs = flat_inputs
        self._flat_outputs = flat_outputs
        self._input_dtypes = [torch_dtype(t.dtype) for t in flat_inputs]
        # Per input: (rank, [(axis, size) for each known non-batch size]) for the per-call check.
        self._input_checks = [
            (len(t.shape), [(a, d) for a, d in enumerate(t.shape) if d is not None and a > 0
                            and (self._checks_all_input_sizes or a == len(t.shape) - 1)])
            for t in flat_inputs
        ]
        self._single_output = isinstance(outputs, KerasTensor)
        self._plan = _plan_with_output_masks(flat_inputs, flat_outputs, graph)
        self.built = True
        self.eval()

    @property
    def _is_graph_network(self):
        return self._plan is not None

    @property
    def layers(self):
        """The model's layers: InputLayers first, in the graph's (Keras's) order."""
        if self._is_graph_network:
            return list(self._layers)
        return self._sublayers()

    def _sublayers(self):
        if self._is_graph_network:
            return [layer for layer in self._layers if not isinstance(layer, InputLayer)]
        return super()._sublayers()

    @property
    def inputs(self):
        """The model's input KerasTensors, as a flat list."""
        return list(self._flat_inputs) if self._is_graph_network else None

    @property
    def outputs(self):
        """The model's output KerasTensors, as a flat list."""
        return list(self._flat_outputs) if self._is_graph_network else None

    @property
    def input(self):
        """The input(s) in the structure they were given to `Model(...)`."""
        if self._is_graph_network:
            return self._inputs_struct
        return super().input

    @property
    def output(self):
        """The output(s) in the structure they were given to `Model(...)`."""
        if self._is_graph_network:
            return self._outputs_struct
        return super().output

    @property
    def input_names(self):
        """Names of the model's inputs (the keys of a dict passed to the model)."""
        return [layer.name for layer in self._input_layers]

    @property
    def output_names(self):
        """Names of the model's outputs: dict keys, or the names of the layers producing them."""
        if isinstance(self._outputs_struct, dict):
            return list(nest._keys(self._outputs_struct))
        return [t._keras_history[0].name for t in self._flat_outputs]

    @property
    def input_shape(self):
        """The input shape(s), batch dimension first."""
        shapes = [t.shape for t in self._flat_inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The output shape(s), batch dimension first."""
        shapes = [t.shape for t in self._flat_outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_layer(self, name=None, index=None):
        """Returns a layer by its name or its index in `model.layers`.

        Raises:
            ValueError: When no layer has that name or index, or neither is given.
        """
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    # ------------------------------------------------------------------ calling

    def _standardize_inputs(self, args):
        n = len(self._flat_inputs)
        if len(args) == 1:
            data = args[0]
        else:
            data = list(args)
        struct = self._inputs_struct
        if isinstance(data, dict) and isinstance(struct, dict) and all(k in data for k in struct):
            # Inputs given as a dict (`Model({"a": Input(...)}, ...)`): taken by its keys.
            flat = nest.flatten({key: data[key] for key in struct})
        elif isinstance(data, dict):
            flat = []
            for layer in self._input_layers:
                if layer.name not in data:
                    raise ValueError(
                        f'Missing data for input "{layer.name}" of model "{self.name}". You passed '
                        f"a dict with keys {list(data.keys())}. Expected the keys {self.input_names}."
                    )
                flat.append(data[layer.name])
        elif isinstance(data, (list, tuple)):
            flat = list(data)
            if n == 1 and len(flat) == 1 and isinstance(self._inputs_struct, KerasTensor):
                pass
            elif len(flat) != n:
                raise ValueError(
                    f'Model "{self.name}" expects {n} input(s) {self.input_names}, but it '
                    f"received {len(flat)} input tensors."
                )
        else:
            flat = [data]
            if n != 1:
                raise ValueError(
                    f'Model "{self.name}" expects {n} input(s) {self.input_names}, but it '
                    "received 1 input tensor."
                )
        for i, x in enumerate(flat):
            if type(x) is torch.Tensor or isinstance(x, torch.Tensor):
                # As Keras (`convert_to_tensor(x, dtype=input.dtype)`): integer data fed to a
                # float Input is cast too (it reached the first Dense as int64 and failed there).
                if x.dtype != self._input_dtypes[i]:
                    flat[i] = with_mask_of(x.to(self._input_dtypes[i]), x)
            else:
                flat[i] = self._convert_input(x, i)
            flat[i] = self._adjust_input_rank(flat[i], i)
            self._check_input_shape(flat[i], i)
        return flat

    def _adjust_input_rank(self, x, i):
        # As Keras: a trailing axis of size 1 is added or dropped to meet the Input's rank
        # (images (n, 28, 28) fed to an Input of shape (28, 28, 1)).
        if x is None:
            return x
        rank = len(self._flat_inputs[i].shape)
        if x.dim() == rank - 1 and self._flat_inputs[i].shape[-1] == 1:
            return with_mask_of(x.unsqueeze(-1), x)
        if x.dim() == rank + 1 and x.shape[-1] == 1:
            return with_mask_of(x.squeeze(-1), x)
        return x

    def _weights_device(self):
        """The device of the model's weights (`None` without weights), read through a probe."""
        probe = self.__dict__.get("_weight_probe")
        if probe is None:
            probe = self.__dict__["_weight_probe"] = WeightProbe()
        return probe.device(self)

    def _to_tensor(self, array):
        # `model(array)`: the data goes where the weights are (Keras puts it on its device).
        tensor = Layer._to_tensor(self, array)
        device = self._weights_device()
        if device is not None and tensor.device != device:
            tensor = tensor.to(device)
        return tensor

    def _convert_input(self, x, i):
        if isinstance(x, (np.ndarray, np.generic, int, float, list)):
            array = np.asarray(x)
            device = self._weights_device()
            if array.dtype.kind in "USO":
                raise ArgumentTypeError(
                    f'Input "{self._input_layers[i].name}" of model "{self.name}" must be numbers; '
                    f"received an array of dtype {array.dtype} ({x!r:.80})."
                )
            return torch.as_tensor(array, device=device).to(self._input_dtypes[i])
        if x is None and self._input_layers[i].optional:
            return None
        raise ArgumentTypeError(
            f'Input "{self._input_layers[i].name}" of model "{self.name}" must be a tensor or a '
            f"numpy array. Received: {type(x).__name__} {x!r:.80}"
        )

    def _check_input_shape(self, x, i):
        if x is None:
            return
        expected = self._flat_inputs[i].shape
        actual = x.shape
        checked = range(len(expected)) if self._checks_all_input_sizes else [len(expected) - 1]
        if len(actual) != len(expected) or any(
            expected[a] is not None and expected[a] != actual[a] for a in checked
        ):
            raise ValueError(
                f'Input "{self._input_layers[i].name}" of model "{self.name}" is incompatible with '
                f"the model: expected shape={expected}, found shape={tuple(actual)}"
            )

    # Whether `forward`, `call` and `compute_mask` of the class are Model's whenever the model
    # has a graph (a subclass overriding one gets False, unless it declares True itself, as
    # Sequential does).
    _plan_entry = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_plan_entry" not in cls.__dict__:
            cls._plan_entry = cls._plan_entry and not any(
                name in cls.__dict__ for name in ("call", "forward", "compute_mask")
            )

    def __call__(self, *args, **kwargs):
        if not kwargs and len(args) == 1:
            # The common call `model(tensor)` runs the plan at once. What the `Layer.__call__` ->
            # `nn.Module.__call__` -> `forward` -> `call` chain would check or do on the way is
            # checked here first (anything else takes the chain): eagerly that is four fewer
            # Python frames, and under `torch.compile` the trace reads, and dynamo guards on
            # every compiled call, a few attributes instead of the whole chain.
            x = args[0]
            if type(x) is np.ndarray and self._plan is not None:
                x = self._to_tensor(x)  # the conversion `Layer.__call__` makes
                args = (x,)
            if (_is_compiling() or type(x) is _PLAIN_TENSOR) and self._runs_plan_directly(x):
                results = self._plan.run([x], None)
                return results[0] if self._single_output else nest.pack_like(self._outputs_struct, results)
        return Layer.__call__(self, *args, **kwargs)

    def _runs_plan_directly(self, x):
        """Whether `model(x)` is exactly `self._plan.run([x])` (see `__call__`): a graph model
        of Model's own call, one input tensor of the right dtype and sizes carrying no mask, no
        torch hook, activity regularizer, input autocast or input spec on the model, no
        enclosing call context asking another module mode, not under `torch.jit.trace`."""
        plan = self._plan
        return (
            self._plan_entry
            and plan is not None
            and getattr(x, "_keras_mask", None) is None
            and self._activity_regularizer is None
            and self._autocast_to is None
            and self.input_spec is None
            and not (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks
                     or self._backward_pre_hooks)
            and plan.runs_directly_in_context(self.training)
            and len(self._input_dtypes) == 1
            and self._tensor_fits(x)
        )

    def forward(self, inputs, *more_inputs, **kwargs):
        """The `nn.Module` entry point; a named first argument lets `torch.export` map
        `dynamic_shapes=({0: batch},)` onto it."""
        if self._plan is not None and self._activity_regularizer is None:
            return self.call(inputs, *more_inputs, **kwargs)  # built graph: nothing else to do
        return Layer.forward(self, inputs, *more_inputs, **kwargs)

    def call(self, *inputs, training=None, mask=None):
        """Runs the graph on real tensors (a tensor, a list, a dict, or positional tensors)."""
        plan = self._plan
        if plan is None:
            raise NotImplementedError(
                f"Model {type(self).__name__} has no graph: subclasses must define `call()`."
            )
        x = inputs[0] if len(inputs) == 1 else None
        if type(x) is torch.Tensor and len(self._input_dtypes) == 1 and self._tensor_fits(x):
            flat = [x]  # the common case: one tensor of the right dtype and shape
        else:
            flat = self._standardize_inputs(inputs)
        # The plan makes `training` the call context of every layer inside (sublayers that
        # custom layers call without passing it included); `None` inherits the enclosing one.
        if training is not None and bool(training) != self.training:
            # Torch modules inside custom layers follow the module mode, not the context: keep
            # the mode in line with an explicit `training`. Such flips are rare (an inference
            # call on a model in train mode, MC dropout), so only they pay the module walk.
            self.train(bool(training))
            try:
                results = plan.run(flat, training)
            finally:
                self.train(not training)
        else:
            results = plan.run(flat, training)
        if self._single_output:
            return results[0]
        return nest.pack_like(self._outputs_struct, results)

    def _collected_losses(self):
        """The losses added during the most recent run of the graph (see `Layer.losses`)."""
        if self._plan is not None and self._activity_regularizer is None:
            collected = self._plan.loss_collection
            return list(collected) if collected is not None else []
        return Layer._collected_losses(self)

    @property
    def losses(self):
        """Penalties of the model: losses added during its most recent call (`add_loss`,
        activity regularizers), then the weight regularization penalties."""
        if self._plan is not None and self._activity_regularizer is None:
            collected = self._plan.loss_collection
            return self._walk_added_losses(collected) + self._regularization_losses()
        return Layer.losses.fget(self)

    def _tensor_fits(self, x):
        rank, sizes = self._input_checks[0]
        if x.dtype != self._input_dtypes[0] or x.dim() != rank:
            return False
        shape = x.shape
        for axis, size in sizes:
            if shape[axis] != size:
                return False
        return True

    def compute_output_shape(self, input_shape):
        """The output shape(s) for inputs of `input_shape`, found by running the graph on
        placeholder tensors (a graph model checks each input's shape first, as Keras).

        Raises:
            ValueError: When a shape does not fit the model's Input.
        """
        if not self._is_graph_network:
            return Layer.compute_output_shape(self, input_shape)
        specs = map_shape_structure(lambda shape: KerasTensor(tuple(shape)), input_shape)
        flat = nest.flatten(specs)
        if len(flat) != len(self._flat_inputs):
            raise ValueError(
                f'Model "{self.name}" expects {len(self._flat_inputs)} input shape(s) '
                f"{self.input_names}, but received {input_shape}."
            )
        flat = [KerasTensor(x.shape, dtype=ref.dtype) for x, ref in zip(flat, self._flat_inputs)]
        for i, x in enumerate(flat):
            self._check_input_shape(x, i)
        outputs = infer_output_spec(self.call, (flat if len(flat) > 1 else flat[0],), {}, module=self,
                                    description=f'model "{self.name}"')
        return nest.map_structure(lambda x: tuple(x.shape), outputs)

    compute_output_shape._runs_the_call = True

    def build(self, input_shape=None):
        """Builds a subclassed model by calling it on a symbolic input of `input_shape`."""
        if not self._is_graph_network and input_shape is not None and not self.built:
            self.built = True
            # A dict or list of inputs gives a structure of shapes: one KerasTensor per shape.
            spec = map_shape_structure(lambda shape: KerasTensor(tuple(shape), dtype=self.compute_dtype),
                                       input_shape)
            try:
                self.call(spec)
            except Exception as error:
                # A `call` that needs numbers where KerasTensors have None (`ops.shape(x)[0]`
                # given to `ops.ones`) runs on placeholder-sized tensors, as Keras builds it.
                try:
                    infer_output_spec(self.call, (spec,), {}, module=self, description=f'model "{self.name}"')
                except Exception:
                    raise error from None
        self.built = True

    # ------------------------------------------------------------------ config

    def get_config(self):
        """Returns the model's config (the full graph for functional models)."""
        if self._is_graph_network:
            return functional_config(self)
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a model from `get_config()` output."""
        if "layers" in config and "input_layers" in config:
            return functional_from_config(cls, config, custom_objects=custom_objects)
        return cls(**config)

    # ------------------------------------------------------------------ saving (keraslike.saving)

    def save(self, filepath, overwrite=True, **kwargs):
        """Saves the model (architecture, weights, compile and optimizer state) to one file.

        `.safetensors` (or no extension) writes keraslike's single-file format; `.keras` writes
        a Keras 3 archive. See `keraslike.saving.save_model`.
        """
        return saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights: `.weights.safetensors` (native) or Keras's `.weights.h5`."""
        return saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Loads weights saved by `save_weights` (or by Keras as `.weights.h5`)."""
        return saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def get_quantization_layer_structure(self, mode=None):
        """The structure GPTQ/AWQ calibrate block by block; `None` here (override it).

        Args:
            mode: The quantization mode asking (`"gptq"` or `"awq"`).

        Returns:
            `{"pre_block_layers": [...], "sequential_blocks": [...]}` (the calibration samples
            go through the first list, then each block in turn), or `None`.
        """
        del mode
        return None

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantizes the model's Dense, EinsumDense and Embedding layers in place (as Keras).

        See `keraslike.models.quantize.quantize_model` for the arguments.
        """
        quantize_model(self, mode, config, filters, **kwargs)

    def export(self, filepath, format="torch", verbose=None, input_signature=None, **kwargs):
        """Exports the model for serving and verifies the artifact against the eager model.

        Args:
            filepath: The file to write (`.pt2` for `"torch"`, `.onnx` for `"onnx"`).
            format: `"torch"` (a `torch.export` program; load it with `torch.export.load`) or
                `"onnx"` (through `torch.onnx.export(dynamo=True)`; input and output names are
                the Keras names). Keras's TensorFlow formats are not available.
            verbose: Whether to print what was written (default `True`).
            input_signature: Optional input shapes (and dtypes), one per input (a list, or a
                dict by input name); `None` dimensions stay dynamic. Use it to fix a dimension
                the model cannot keep dynamic, such as the time axis of an LSTM.
            **kwargs: Passed to `torch.export.export` or `torch.onnx.export`.

        The artifact takes one tensor per input, in the order of `model.inputs`, and returns one
        tensor per output, in the order of `model.outputs`. Tracing runs in inference mode; the
        model's mode is restored afterwards.

        Example:

        ```python
        model.export("model.pt2")
        program = torch.export.load("model.pt2")
        y = program.module()(x)
        ```
        """
        return export.export_model(
            self,
            filepath,
            format=format,
            input_signature=input_signature,
            verbose=True if verbose is None else verbose,
            **kwargs,
        )

    def to_json(self, **kwargs):
        """Returns the model's architecture as a JSON string (Keras 3's schema)."""
        return saving.model_to_json(self, **kwargs)

    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Prints a table of the model's layers, output shapes and parameter counts.

        Args:
            line_length: Total width of the table.
            positions: Relative or absolute positions of the column ends.
            print_fn: Function called with the text (default `print`).
            expand_nested: Whether to show the layers of nested models.
            show_trainable: Whether to add a "Trainable" column.
            layer_range: Two layer names: the first and last layer to show.
        """
        print_summary(
            self,
            line_length=line_length,
            positions=positions,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )


def _plan_with_output_masks(flat_inputs, flat_outputs, graph):
    """The model's execution plan; outputs carrying a Keras mask (an Embedding's `mask_zero`
    passed along) get it attached on each call, for the losses and metrics, as in Keras. The
    mask's own nodes run in the plan, not in the model's graph (its layers, config, summary)."""
    masks = [getattr(t, "_keras_mask", None) for t in flat_outputs]
    extra = [m for m in masks if isinstance(m, KerasTensor)]
    if not extra:
        return ExecutionPlan(flat_inputs, flat_outputs, graph.nodes)
    return ExecutionPlan(flat_inputs, flat_outputs, map_graph(flat_inputs, flat_outputs + extra).nodes, masks)

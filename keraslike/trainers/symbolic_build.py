"""Building a model from its first batch of data before a loop starts (Keras's `_symbolic_build`).

A model whose layers are created or built on their first call (a `Sequential` without an
`Input`, a subclassed `Model`) has no weights until it sees data. `fit` must know the trainable
weights before its first step (the optimizer is built with them, the steps read them), so the
loops first run the model on shape-only tensors matching the first batch: every layer is built
with real weights, no compute is spent and no state (moving statistics, RNG) changes.
"""

import torch

from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.shape_inference import dtype_name
from keraslike.layers.layer import Layer
from keraslike.trainers.structures import unpack_x_y_sample_weight


def model_is_built(model):
    """Whether the model and every layer in its module tree are built."""
    return all(module.built for module in model.modules() if isinstance(module, Layer))


def _keras_reads_a_batch(model):
    """Whether Keras's `_symbolic_build` would read a first batch here: the model, or the
    compiled loss or metrics (built on their first batch), not yet built."""
    compiled = [getattr(model, "_compile_loss", None), getattr(model, "_compile_metrics", None)]
    return not model_is_built(model) or any(c is not None and not c.built for c in compiled)


def build_from_data(model, data):
    """Builds an unbuilt `model` from the shapes and dtypes of `data`'s first batch.

    Args:
        model: The model `fit` / `evaluate` / `predict` runs.
        data: The loop's data (`ArrayData` or `IterableData`); its first batch is peeked at,
            not consumed. Where Keras reads that batch (an unbuilt model, loss or metrics), a
            shuffling `PyDataset` draws the batch order of the pass Keras reads it from (see
            `IterableData.draw_build_pass`).

    Raises:
        ValueError: what the model's call raises on inputs of these shapes (a user error).
        RuntimeError: naming the model, when its call cannot be run on shape-only tensors.
    """
    # (Keras's predict builds without reading a batch.)
    reads = getattr(data, "what", None) != "predict" and _keras_reads_a_batch(model)
    if reads:
        data.draw_build_pass(before_build=True)
    _build(model, data)
    if reads:
        data.draw_build_pass(before_build=False)


def _build(model, data):
    if model_is_built(model):
        return
    batch = data.peek()
    if batch is None:
        return
    x, _, _ = unpack_x_y_sample_weight(batch)
    symbolic = nest.map_structure(
        lambda t: KerasTensor(tuple(t.shape), dtype=dtype_name(t.dtype)) if isinstance(t, torch.Tensor) else t,
        x,
    )
    try:
        model.compute_output_spec(symbolic, training=False)
    except ValueError:
        raise
    except Exception as error:
        raise RuntimeError(
            f'Unable to automatically build the model "{model.name}" from the first batch of data '
            f"(input shapes {[tuple(t.shape) for t in nest.flatten(x) if isinstance(t, torch.Tensor)]}). "
            "Build it yourself before calling fit/evaluate/predict, e.g. by calling it on a batch "
            f"of data. Exception encountered: {type(error).__name__}: {error}"
        ) from error

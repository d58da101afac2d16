"""Keraslike bugs found porting more keras-io vision examples, each checked against Keras 3 (the
oracle).

- A `MultiHeadAttention` over two attention axes, one of size 1 (MobileViT's last block folds
  a 2x2 map into 4 patches of 1 position), dropped other attention probabilities than Keras
  under the same seed: the einsum's scores are a permuted view there, Keras's softmax keeps
  that layout and torch's dropout draws its mask in memory order, while keraslike's softmax
  made the probabilities contiguous.
- A user's `train_step` / `test_step` / `predict_step` received the data adapted to the
  model's inputs (reshaped, unwrapped, cast, and refused when its shapes were not the model's:
  metric learning's anchor/positive stacks), where Keras hands over the batch as its data
  adapter gives it: in-memory `x` in the user's structure and shapes, and an iterable's batch
  as a torch DataLoader converts it (tuples as lists, `x` alone as `[x]`, dtypes kept).
"""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")


def _attention_output(lib, shape):
    lib.utils.set_random_seed(0)
    inputs = lib.Input(shape)
    outputs = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.3)(inputs, inputs)
    model = lib.Model(inputs, outputs)
    model.set_weights([np.random.default_rng(k).uniform(-0.5, 0.5, np.shape(w)).astype("float32")
                       for k, w in enumerate(model.get_weights())])
    x = np.random.default_rng(0).uniform(size=(3,) + shape).astype("float32")
    lib.utils.set_random_seed(1)
    return np.asarray(lib.ops.convert_to_numpy(model(x, training=True)))


@pytest.mark.parametrize("shape", [(4, 1, 6), (1, 4, 6), (4, 2, 6)])
def test_multi_axis_attention_dropout_draws_keras_masks(shape):
    np.testing.assert_allclose(_attention_output(keraslike, shape), _attention_output(keras, shape), atol=2e-6)


def _describe(data):
    if isinstance(data, (list, tuple)):
        return (type(data).__name__, [_describe(d) for d in data])
    return (tuple(data.shape), str(data.dtype).replace("torch.", ""))


def _step_inputs(lib, fit_args, **kwargs):
    """What a `train_step` override receives from `fit(*fit_args)`, and from `evaluate` and
    `predict` the same for `test_step` / `predict_step`."""
    seen = []

    class Probe(lib.Model):
        def train_step(self, data):
            seen.append(("train", _describe(data)))
            return {}

        def test_step(self, data):
            seen.append(("test", _describe(data)))
            return {}

        def predict_step(self, data):
            seen.append(("predict", _describe(data)))
            return lib.ops.zeros((2, 1))

    inputs = lib.Input((3,))
    model = Probe(inputs, lib.layers.Dense(2)(inputs))
    model.compile("sgd")
    model.fit(*fit_args, verbose=0, **kwargs)
    model.evaluate(*fit_args, verbose=0, **kwargs)
    model.predict(fit_args[0], verbose=0, **kwargs)
    return seen


@pytest.mark.parametrize("case", ["rank", "list", "two_arrays", "float64"])
def test_overridden_steps_get_arrays_as_keras_gives_them(case):
    x = np.zeros((2, 3), "float32")
    args = {
        "rank": (np.zeros((2, 3, 1), "float32"),),  # the model would squeeze the last axis
        "list": ([x],),
        "two_arrays": ([x, x],),  # not the model's inputs: refused before the fix
        "float64": (x.astype("float64"), np.zeros((2, 2), "int64")),
    }[case]
    assert _step_inputs(keraslike, args) == _step_inputs(keras, args)


@pytest.mark.parametrize("batch", ["tuple1", "pair", "nested", "float64", "not_model_shaped"])
def test_overridden_steps_get_iterable_batches_as_keras_gives_them(batch):
    x = np.zeros((2, 3), "float32")
    item = {
        "tuple1": (x,),
        "pair": (x, np.zeros((2, 2), "float32")),
        "nested": ((x, x), (x, np.zeros((2,), "int64"))),
        "float64": (x.astype("float64"), np.zeros((2, 2), "int64")),
        "not_model_shaped": (np.zeros((2, 10, 3), "float32"),),
    }[batch]

    def steps(lib):
        # Keras reads a batch through the model to build an unbuilt compiled loss: none here.
        class Batches(lib.utils.PyDataset):
            def __len__(self):
                return 1

            def __getitem__(self, index):
                return item

        seen = []

        class Probe(lib.Model):
            def train_step(self, data):
                seen.append(_describe(data))
                return {}

        inputs = lib.Input((3,))
        model = Probe(inputs, lib.layers.Dense(2)(inputs))
        model.compile("sgd")
        model.fit(Batches(), verbose=0)

        def batches():
            yield item

        model.fit(batches(), steps_per_epoch=1, verbose=0)
        return seen

    assert steps(keraslike) == steps(keras)


def test_first_element_of_a_one_array_batch_is_the_batch():
    """`data[0]` of a `PyDataset` batch `(x,)` is `x` in Keras (a list `[x]`), not its first
    sample: the silent difference the fix removes."""
    x = np.arange(6, dtype="float32").reshape(2, 3)

    class Batches(keraslike.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return (x,)

    seen = []

    class Probe(keraslike.Model):
        def train_step(self, data):
            seen.append(data[0])
            return {}

    inputs = keraslike.Input((3,))
    model = Probe(inputs, keraslike.layers.Dense(2)(inputs))
    model.compile("sgd")
    model.fit(Batches(), verbose=0)
    torch.testing.assert_close(seen[0].cpu(), torch.from_numpy(x))


def test_validation_data_of_one_array_reaches_test_step_unwrapped():
    """`fit(validation_data=(x,))`: Keras unpacks the 1-tuple, so an overridden `test_step`
    gets `x` (the masked-autoencoder example validates on images alone), now that such a step
    gets its data unadapted."""
    x = np.zeros((4, 3), "float32")

    def seen(lib):
        steps = []

        class Probe(lib.Model):
            def train_step(self, data):
                return {}

            def test_step(self, data):
                steps.append(_describe(data))
                return {}

        inputs = lib.Input((3,))
        model = Probe(inputs, lib.layers.Dense(2)(inputs))
        model.compile("sgd")
        model.fit(x, validation_data=(x,), batch_size=4, verbose=0)
        model.fit(x, validation_data=[x], batch_size=4, verbose=0)
        return steps

    assert seen(keraslike) == seen(keras) == [((4, 3), "float32")] * 2

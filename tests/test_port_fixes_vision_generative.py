"""Keraslike bugs found porting keras-io's vision and generative examples, each checked against
Keras 3 (the oracle).

- `RandomCrop(seed=None)` draws two seeds from Python's `random` as Keras does (one for its
  config, one for its generator, which makes the crops): with one draw, every initializer
  created after it took another seed, so a seeded focal-modulation model started from other
  weights than Keras's.
- A `PyDataset`'s epoch hooks are called as Keras's loops call them: `on_epoch_begin` before
  each pass (it was never called), `on_epoch_end` also once as `fit` and `evaluate` start (their
  epoch iterator's reset), and the batch Keras reads to build the model is read from the pass
  it starts (once). A dataset reshuffling itself in `on_epoch_end` (the focal-modulation
  example's) visited its samples in other orders than under Keras.
- A functional model returning an intermediate image tensor that later layers also read
  (Grad-CAM's `[last_conv_output, predictions]`) returns a tensor the predictions were not
  computed from: `torch.autograd.grad(predictions, last_conv_output)` failed (layout
  propagation returned a channels-last copy made after the later layers read the channels-first
  value; keraslike/graph/layout.py).
"""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")


def _dense_kernel_after(lib, make):
    lib.utils.set_random_seed(1)
    make(lib)
    dense = lib.layers.Dense(3)
    dense.build((None, 2))
    return np.asarray(dense.get_weights()[0])


def test_random_crop_draws_keras_seeds():
    make = lambda lib: lib.layers.RandomCrop(4, 4)  # noqa: E731
    np.testing.assert_array_equal(_dense_kernel_after(keraslike, make), _dense_kernel_after(keras, make))


def test_random_crop_crops_and_config_like_keras_when_unseeded():
    images = np.random.default_rng(0).uniform(0, 1, (2, 9, 9, 3)).astype("float32")
    got = {}
    for lib in (keras, keraslike):
        lib.utils.set_random_seed(3)
        layer = lib.layers.RandomCrop(5, 5)
        crops = [np.asarray(lib.ops.convert_to_numpy(layer(images, training=True))) for _ in range(4)]
        got[lib.__name__] = crops, layer.get_config()["seed"]
    (theirs, their_seed), (ours, our_seed) = got["keras"], got["keraslike"]
    assert our_seed == their_seed
    for a, b in zip(theirs, ours):
        np.testing.assert_array_equal(b, a)


def _hook_trace(lib, built, shuffle):
    lib.utils.set_random_seed(1)
    log = []

    class Trace(lib.utils.PyDataset):
        def __init__(self, tag, **kwargs):
            super().__init__(**kwargs)
            self.tag = tag

        def __len__(self):
            return 3

        def __getitem__(self, index):
            log.append(f"{self.tag}{index}")
            return np.full((4, 2), index, "float32"), np.zeros((4, 1), "float32")

        def on_epoch_begin(self):
            log.append(f"{self.tag}B")

        def on_epoch_end(self):
            log.append(f"{self.tag}E")

    model = lib.Sequential(([lib.Input((2,))] if built else []) + [lib.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    log.append("fit:")
    model.fit(Trace("t"), validation_data=Trace("v"), epochs=2, verbose=0, shuffle=shuffle)
    log.append("evaluate:")
    model.evaluate(Trace("e"), verbose=0)
    log.append("predict:")
    model.predict(Trace("p"), verbose=0)
    return " ".join(log)


@pytest.mark.parametrize("built", [False, True])
@pytest.mark.parametrize("shuffle", [True, False])
def test_py_dataset_hooks_and_reads_follow_keras(built, shuffle):
    assert _hook_trace(keraslike, built, shuffle) == _hook_trace(keras, built, shuffle)


def test_py_dataset_reshuffled_in_on_epoch_end_trains_like_keras():
    """The focal-modulation example's dataset reshuffles its samples with numpy in
    `on_epoch_end`: seeded, the losses are Keras's."""

    def losses(lib):
        lib.utils.set_random_seed(2)
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(24, 3)).astype("float32"), rng.normal(size=(24, 1)).astype("float32")

        class Shuffled(lib.utils.PyDataset):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.indices = np.arange(24)
                np.random.shuffle(self.indices)

            def __len__(self):
                return 3

            def __getitem__(self, index):
                rows = self.indices[index * 8 : (index + 1) * 8]
                return x[rows], y[rows]

            def on_epoch_end(self):
                np.random.shuffle(self.indices)

        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="relu"), lib.layers.Dense(1)])
        model.compile(lib.optimizers.SGD(0.1), "mse")
        return model.fit(Shuffled(), validation_data=Shuffled(), epochs=3, verbose=0).history

    expected, got = losses(keras), losses(keraslike)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)


def _grad_of_output_wrt_intermediate(lib):
    lib.utils.set_random_seed(1)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    inputs = lib.Input((8, 8, 3))
    conv = lib.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    outputs = lib.layers.Dense(5)(lib.layers.GlobalAveragePooling2D()(conv))
    model = lib.Model(inputs, outputs)
    grad_model = lib.Model(model.inputs, [model.get_layer("conv").output, model.output])
    conv_output, preds = grad_model(x)
    return torch.autograd.grad(preds[:, 1].sum(), conv_output)[0].numpy()


def test_gradient_with_regard_to_a_returned_intermediate_output_like_keras():
    np.testing.assert_allclose(
        _grad_of_output_wrt_intermediate(keraslike), _grad_of_output_wrt_intermediate(keras), rtol=1e-5, atol=1e-7
    )

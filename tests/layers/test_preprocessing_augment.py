"""Image augmentation layers against Keras 3 (torch backend).

The layers draw their random parameters as Keras's do (same `keras.random` calls, same order,
same `SeedGenerator` seeding), so with the same `seed` the augmented images are Keras's: exact
for the point-wise layers, within float rounding (grid_sample vs Keras's gather) for the
resampling ones.
"""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import layers

keras = pytest.importorskip("keras")

X = np.random.default_rng(0).uniform(0, 255, size=(4, 9, 7, 3)).astype("float32")

CASES = [
    ("RandomFlip", {}),
    ("RandomFlip", {"mode": "horizontal"}),
    ("RandomFlip", {"mode": "vertical"}),
    ("RandomRotation", {"factor": 0.2}),
    ("RandomRotation", {"factor": 0.3, "fill_mode": "constant", "fill_value": 3.0}),
    ("RandomRotation", {"factor": 0.3, "fill_mode": "nearest"}),
    ("RandomRotation", {"factor": 0.3, "fill_mode": "wrap"}),
    ("RandomRotation", {"factor": (-0.1, 0.4), "interpolation": "nearest"}),
    ("RandomZoom", {"height_factor": 0.3}),
    ("RandomZoom", {"height_factor": (-0.5, 0.4), "width_factor": 0.2, "fill_mode": "constant"}),
    ("RandomTranslation", {"height_factor": 0.3, "width_factor": (-0.2, 0.4)}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2, "fill_mode": "wrap"}),
    ("RandomCrop", {"height": 5, "width": 4}),
    ("RandomContrast", {"factor": 0.5}),
    ("RandomBrightness", {"factor": 0.3}),
    ("RandomBrightness", {"factor": (-0.2, 0.5), "value_range": (0, 1)}),
    ("Solarization", {"addition_factor": 0.3, "threshold_factor": (0.2, 0.8)}),
    ("AutoContrast", {}),
    ("RandomInvert", {"factor": 0.6}),
    ("RandomGrayscale", {}),
    ("RandomColorDegeneration", {"factor": 0.7}),
]


def _pair(name, kwargs):
    kwargs = dict(kwargs, name="aug")
    if name != "AutoContrast":
        kwargs["seed"] = 42
    return getattr(keras.layers, name)(**kwargs), getattr(layers, name)(**kwargs)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_fixed_seed_outputs_equal_keras(name, kwargs):
    oracle, ours = _pair(name, kwargs)
    x = X / 255 if kwargs.get("value_range") == (0, 1) else X
    for _ in range(2):  # the second call checks the seed generator advances alike
        expected = oracle(x, training=True).cpu().numpy()
        out = ours(x, training=True)
        assert isinstance(out, torch.Tensor) and out.shape == expected.shape
        np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=5e-4)  # float32 on 0-255
    assert ours.get_config() == oracle.get_config()


@pytest.mark.parametrize("name", ["RandomRotation", "RandomZoom"])
def test_channels_first_and_unbatched(name):
    kwargs = {"factor": 0.25} if name == "RandomRotation" else {"height_factor": 0.3}
    oracle = getattr(keras.layers, name)(seed=3, data_format="channels_first", **kwargs)
    ours = getattr(layers, name)(seed=3, data_format="channels_first", **kwargs)
    x = X.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(ours(x), oracle(x).cpu().numpy(), atol=5e-4)
    single = getattr(layers, name)(seed=3, **kwargs)
    assert tuple(single(X[0]).shape) == X[0].shape


def test_known_transforms():
    # factor (0.25, 0.25): a quarter turn counter-clockwise, exactly.
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    out = layers.RandomRotation((0.25, 0.25))(x)
    np.testing.assert_allclose(out[0, ..., 0], np.rot90(x[0, ..., 0]), atol=1e-4)
    np.testing.assert_array_equal(layers.RandomInvert(factor=(1.0, 1.0))(x), 255 - x)
    shifted = layers.RandomTranslation((0.25, 0.25), (0.0, 0.0), fill_mode="constant")(x)
    np.testing.assert_allclose(shifted[0, 1:, :, 0], x[0, :3, :, 0], atol=1e-5)
    np.testing.assert_array_equal(shifted[0, 0], np.zeros((4, 1)))


def test_identity_in_predict_and_augments_in_training():
    augment = [
        layers.RandomFlip(seed=1),
        layers.RandomRotation(0.2, seed=2),
        layers.RandomZoom(0.2, seed=3),
        layers.RandomContrast(0.3, seed=4),
    ]
    inputs = keraslike.Input(shape=(9, 7, 3))
    x = inputs
    for layer in augment:
        x = layer(x)
    model = keraslike.Model(inputs, x)
    np.testing.assert_array_equal(model.predict(X, verbose=0), X)
    assert not np.allclose(model(X, training=True).detach().numpy(), X)
    for layer in augment:  # a standalone call augments (Keras's default training=True)
        assert not np.allclose(layer(X).numpy(), X)
        np.testing.assert_array_equal(layer(X, training=False).numpy(), X)


def test_flip_statistics():
    flips = layers.RandomFlip("horizontal", seed=0)(np.broadcast_to(X[:1], (2000, 9, 7, 3)))
    flipped = (flips.numpy() != X[:1]).any(axis=(1, 2, 3)).mean()
    assert 0.45 < flipped < 0.55


def test_saved_model_with_augmentation(tmp_path):
    inputs = keraslike.Input(shape=(9, 7, 3))
    x = layers.RandomFlip(seed=1)(inputs)
    x = layers.RandomRotation(0.1, seed=2, fill_mode="constant")(x)
    outputs = layers.Dense(2)(layers.Flatten()(x))
    model = keraslike.Model(inputs, outputs)
    model.save(tmp_path / "m.safetensors")
    loaded = keraslike.saving.load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-6)
    assert loaded.layers[2].get_config() == model.layers[2].get_config()


def test_pipeline():
    pipe = layers.Pipeline([layers.RandomFlip(seed=1), layers.RandomBrightness(0.2, seed=2)])
    oracle = keras.layers.Pipeline(
        [keras.layers.RandomFlip(seed=1), keras.layers.RandomBrightness(0.2, seed=2)]
    )
    np.testing.assert_allclose(pipe(X), oracle(X).cpu().numpy(), atol=1e-4)
    np.testing.assert_array_equal(pipe(X, training=False), X)
    clone = layers.Pipeline.from_config(pipe.get_config())
    assert [type(x).__name__ for x in clone.layers] == ["RandomFlip", "RandomBrightness"]


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.RandomRotation(0.1, fill_mode="bogus"), "fill_mode='bogus'"),
        (lambda: layers.RandomZoom(0.1, interpolation="cubicish"), "interpolation='cubicish'"),
        (lambda: layers.RandomFlip(mode="diagonal"), "mode='diagonal'"),
        (lambda: layers.RandomContrast(1.5), "factor=1.5"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_strings_refused():
    with pytest.raises(ValueError, match="takes numbers"):
        layers.RandomFlip()(np.array([["a"]]))

"""The image augmentation layers of issue 12 against Keras 3 (torch backend), same seeds.

Each layer draws its parameters with the same `keras.random` calls, in the same order, from the
same `SeedGenerator`, so with the same `seed` its images equal Keras's: exactly for point-wise
layers, within float rounding for the resampling ones. Two calls check the generator advances
alike; configs must be equal.
"""

import random

import numpy as np
import pytest
import torch

from keraslike import layers

keras = pytest.importorskip("keras")

X = np.random.default_rng(0).uniform(0, 255, size=(4, 9, 7, 3)).astype("float32")

CASES = [
    ("RandomHue", {"factor": 0.5}),
    ("RandomHue", {"factor": (0.3, 0.3), "value_range": (0, 1)}),
    ("RandomSaturation", {"factor": 0.5}),
    ("RandomSaturation", {"factor": (0.2, 0.9)}),
    ("RandomColorJitter", {"brightness_factor": 0.2, "contrast_factor": 0.3,
                           "saturation_factor": (0.3, 0.7), "hue_factor": 0.2}),
    ("RandomColorJitter", {"hue_factor": (0.1, 0.4), "value_range": (0, 1)}),
    ("RandomSharpness", {"factor": 0.7}),
    ("RandomPosterization", {"factor": 5}),
    ("RandomPosterization", {"factor": (3, 3)}),
    ("Equalization", {}),
    ("Equalization", {"bins": 32}),
    ("Equalization", {"value_range": (0, 1)}),
    ("RandomGaussianBlur", {"factor": 0.8, "kernel_size": 5, "sigma": (0.3, 0.9)}),
    ("RandomShear", {"x_factor": 0.3, "y_factor": 0.2}),
    ("RandomShear", {"x_factor": 0.3, "fill_mode": "constant", "interpolation": "nearest"}),
    ("RandomShear", {"y_factor": (0.1, 0.5), "fill_mode": "wrap"}),
    ("RandomPerspective", {"factor": 0.8, "scale": 0.5}),
    ("RandomPerspective", {"interpolation": "nearest", "fill_value": 3.0}),
    ("RandomErasing", {"factor": 0.9}),
    ("RandomErasing", {"fill_value": 7.0, "scale": (0.1, 0.5)}),
    ("RandomErasing", {"fill_value": [1.0, 2.0, 3.0]}),
    ("MixUp", {}),
    ("MixUp", {"alpha": 0.7}),
    ("CutMix", {}),
    ("CutMix", {"factor": (0.2, 0.6)}),
    ("AugMix", {}),
    ("AugMix", {"all_ops": False, "num_chains": 2, "chain_depth": 4, "factor": 0.6}),
]


def _inputs(kwargs):
    return X / 255 if kwargs.get("value_range") == (0, 1) else X


def _config(layer):
    config = layer.get_config()
    config.pop("name")
    return config


def _replay_aug_mix_picks(monkeypatch, ours):
    """Keras's AugMix picks its operations with Python's unseeded `random` (its `seed` does not
    reach them); keraslike's follow the seed. Make Keras pick what keraslike picked, so the
    rest (mixing weights, operations' parameters, images) can be compared."""
    from keras.src.layers.preprocessing.image_preprocessing import aug_mix

    picks = []
    choose = ours._choose_operations

    def recording(generator):
        chosen = choose(generator)
        picks.extend(name for row in chosen for name in row)
        return chosen

    class Replay:
        @staticmethod
        def choice(options):
            name = picks.pop(0)
            assert name in options
            return name

    monkeypatch.setattr(ours, "_choose_operations", recording)
    monkeypatch.setattr(aug_mix, "py_random", Replay)


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_fixed_seed_outputs_equal_keras(name, kwargs, monkeypatch):
    kwargs = dict(kwargs) if name == "Equalization" else dict(kwargs, seed=42)
    oracle, ours = getattr(keras.layers, name)(**kwargs), getattr(layers, name)(**kwargs)
    if name == "AugMix":
        _replay_aug_mix_picks(monkeypatch, ours)
    x = _inputs(kwargs)
    for _ in range(2):
        out = ours(x, training=True)  # first: AugMix's picks are then replayed to Keras
        expected = oracle(x, training=True).cpu().numpy()
        assert isinstance(out, torch.Tensor) and out.shape == expected.shape
        np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=5e-4)
    assert _config(ours) == _config(oracle)


def test_aug_mix_seed_repeats_without_python_random():
    x = torch.as_tensor(X)
    a, b = layers.AugMix(seed=7), layers.AugMix(seed=7)
    random.seed(0)
    first = a(x, training=True)
    random.seed(1)  # Python's global generator no longer matters (Keras's picks use it)
    np.testing.assert_array_equal(b(x, training=True).numpy(), first.numpy())
    picks = [a._choose_operations(a.generator) for _ in range(2)]
    assert picks[0] == picks[1]  # picking does not advance the generator...
    a(x, training=True)
    assert a._choose_operations(a.generator) != picks[0]  # ...the batch's draws do
    assert not np.array_equal(layers.AugMix(seed=8)(x, training=True).numpy(), first.numpy())


@pytest.fixture
def keras_brightness_not_in_place(monkeypatch):
    """Keras's RandomBrightness adds in place on torch, so Keras's RandAugment (which computes
    every operation on the same tensor) brightens images even when brightness is not chosen.
    Compare against Keras with that bug removed."""
    from keras.src.layers.preprocessing.image_preprocessing import random_brightness

    original = random_brightness.RandomBrightness.transform_images

    def transform_images(self, images, transformation, training=True):
        return original(self, images + 0, transformation, training)

    monkeypatch.setattr(random_brightness.RandomBrightness, "transform_images", transform_images)


@pytest.mark.parametrize("kwargs", [{}, {"num_ops": 4, "factor": 0.7}])
def test_rand_augment_equals_keras(kwargs, keras_brightness_not_in_place):
    oracle = keras.layers.RandAugment(seed=42, **kwargs)
    ours = layers.RandAugment(seed=42, **kwargs)
    for _ in range(3):
        expected = oracle(X, training=True).cpu().numpy()
        np.testing.assert_allclose(ours(X, training=True).numpy(), expected, atol=5e-4)
    assert _config(ours) == _config(oracle)


@pytest.mark.parametrize("name", ["RandomHue", "RandomSaturation", "RandomSharpness",
                                  "RandomShear", "RandomErasing", "Equalization", "CutMix",
                                  "MixUp", "RandomGaussianBlur", "RandomPerspective",
                                  "RandomPosterization"])
def test_channels_first_equals_keras(name):
    kwargs = {"RandomHue": {"factor": 0.4}, "RandomSharpness": {"factor": 0.8},
              "RandomSaturation": {"factor": (0.1, 0.9)}, "RandomPosterization": {"factor": 6},
              "RandomShear": {"x_factor": 0.3, "y_factor": 0.3}}.get(name, {})
    if name != "Equalization":
        kwargs["seed"] = 7
    oracle = getattr(keras.layers, name)(data_format="channels_first", **kwargs)
    ours = getattr(layers, name)(data_format="channels_first", **kwargs)
    x = X.transpose(0, 3, 1, 2).copy()
    expected = oracle(x, training=True).cpu().numpy()
    np.testing.assert_allclose(ours(x, training=True).numpy(), expected, atol=5e-4)


def test_elastic_transform_op_shapes_and_identity():
    from keraslike import ops

    x = np.random.default_rng(1).uniform(size=(2, 12, 10, 3)).astype("float32")
    out = ops.image.elastic_transform(x, alpha=5.0, sigma=2.0, seed=3)
    assert tuple(out.shape) == x.shape
    again = ops.image.elastic_transform(x, alpha=5.0, sigma=2.0, seed=3)
    np.testing.assert_array_equal(out.numpy(), again.numpy())  # an int seed is stateless
    still = ops.image.elastic_transform(x, alpha=0.0, sigma=2.0, seed=3)
    np.testing.assert_allclose(still.numpy(), x, atol=1e-6)  # no displacement
    first = ops.image.elastic_transform(x.transpose(0, 3, 1, 2), alpha=5.0, sigma=2.0, seed=3,
                                        data_format="channels_first")
    np.testing.assert_allclose(first.numpy().transpose(0, 2, 3, 1), out.numpy(), atol=1e-5)
    single = ops.image.elastic_transform(x[0], seed=1, fill_mode="mirror")
    assert tuple(single.shape) == x[0].shape
    with pytest.raises(ValueError, match="fill_mode=bogus"):
        ops.image.elastic_transform(x, fill_mode="bogus")

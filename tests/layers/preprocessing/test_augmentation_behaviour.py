"""Issue 12's augmentation layers where users use them: identity in inference and `predict`,
identity at zero strength, statistics of the random choices, bad arguments, configs, models,
`fit`, `Pipeline`, dict inputs with labels, fixed-seed repeatability, and (with CUDA) no host
sync per batch."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import layers

X = np.random.default_rng(0).uniform(0, 255, size=(6, 10, 8, 3)).astype("float32")

# One configuration of each new layer that visibly changes images.
LAYERS = {
    "RandomHue": {"factor": 0.5},
    "RandomSaturation": {"factor": (0.1, 0.9)},
    "RandomColorJitter": {"brightness_factor": 0.3, "hue_factor": 0.3},
    "RandomSharpness": {"factor": 0.9},
    "RandomGaussianBlur": {"sigma": (0.5, 1.0)},
    "RandomPosterization": {"factor": (2, 2)},
    "Equalization": {},
    "RandomShear": {"x_factor": 0.4, "y_factor": 0.4},
    "RandomPerspective": {"scale": 0.6},
    "RandomElasticTransform": {},
    "RandomErasing": {},
    "MixUp": {"alpha": 1.0},
    "CutMix": {},
    "RandAugment": {"num_ops": 2, "factor": 0.8},
    "AugMix": {},
}
SEEDLESS = ("Equalization",)
DETERMINISTIC = ("Equalization", "RandomPosterization")  # as configured here


def _make(name, **extra):
    kwargs = dict(LAYERS[name], **extra)
    if name not in SEEDLESS:
        kwargs.setdefault("seed", 3)
    return getattr(layers, name)(**kwargs)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_augments_in_training_identity_otherwise(name):
    layer = _make(name)
    out = layer(X)  # standalone: training=True, as Keras
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == X.shape
    assert out.dtype == torch.float32
    assert not np.allclose(out.numpy(), X)
    np.testing.assert_array_equal(layer(X, training=False).numpy(), X)
    single = layer(X[0])
    assert tuple(single.shape) == X[0].shape


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_identity_in_predict_inside_a_model(name):
    inputs = keraslike.Input(shape=X.shape[1:])
    model = keraslike.Model(inputs, _make(name)(inputs))
    np.testing.assert_array_equal(model.predict(X, verbose=0), X)
    np.testing.assert_array_equal(model(X, training=False).detach().numpy(), X)
    # As Keras: a plain `model(x)` reaches `call(training=True)`, the augmentations' default.
    assert not np.allclose(model(X).detach().numpy(), X)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_same_seed_same_images_and_config_round_trip(name):
    a, b = _make(name), _make(name)
    first = a(X)
    np.testing.assert_array_equal(first.numpy(), b(X).numpy())
    assert not np.array_equal(a(X).numpy(), first.numpy()) or name in DETERMINISTIC
    config = a.get_config()
    clone = type(a).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize(
    "name,kwargs,atol",
    [
        ("RandomHue", {"factor": 0.0}, 1e-3),
        ("RandomSaturation", {"factor": (0.5, 0.5)}, 1e-3),
        ("RandomSharpness", {"factor": (0.5, 0.5)}, 0),
        ("RandomGaussianBlur", {"factor": 0.0}, 0),
        ("RandomShear", {"x_factor": 0.0, "y_factor": 0.0}, 1e-3),
        ("RandomPerspective", {"scale": 0.0}, 1e-3),
        ("RandomElasticTransform", {"scale": 0.0}, 0),
        ("RandomElasticTransform", {"factor": 0.0}, 0),
        ("RandomErasing", {"factor": 0.0}, 0),
        ("RandomColorJitter", {}, 0),
    ],
)
def test_zero_strength_is_identity(name, kwargs, atol):
    layer = getattr(layers, name)(seed=1, **kwargs)
    np.testing.assert_allclose(layer(X).numpy(), X, atol=atol)


def test_posterization_keeps_bits():
    images = np.arange(256, dtype="float32").reshape(1, 16, 16, 1).repeat(3, axis=-1)
    np.testing.assert_array_equal(layers.RandomPosterization((8, 8))(images).numpy(), images)
    out = layers.RandomPosterization((3, 3))(images).numpy()
    np.testing.assert_array_equal(out, (images.astype(np.uint8) >> 5 << 5).astype("float32"))
    bits = layers.RandomPosterization(5, seed=0).get_random_transformation(torch.zeros(4000, 1, 1, 1))
    kept = 8 - bits.numpy()
    assert set(np.unique(kept)) == {1, 2, 3, 4}  # Keras draws in [1, factor)


def _changed(out, x):
    return (np.abs(out - x) > 1e-4).any(axis=(1, 2, 3))


@pytest.mark.parametrize("name,kwargs", [
    ("RandomErasing", {"factor": (0.3, 0.3)}),
    ("RandomGaussianBlur", {"factor": (0.3, 0.3)}),
    ("RandomPerspective", {"factor": (0.3, 0.3)}),
    ("RandomElasticTransform", {"factor": (0.3, 0.3)}),
])
def test_probability_of_applying(name, kwargs):
    x = np.broadcast_to(X[:1], (1500,) + X.shape[1:]).copy()
    out = getattr(layers, name)(seed=0, **kwargs)(x).numpy()
    assert 0.25 < _changed(out, x).mean() < 0.35


def test_hue_and_shear_spread():
    hue = layers.RandomHue((0.2, 0.2), seed=0).get_random_transformation(torch.zeros(4000, 1, 1, 3))
    np.testing.assert_allclose(np.abs(hue.numpy()), 0.1, atol=1e-6)  # +-factor / 2
    assert 0.45 < (hue.numpy() > 0).mean() < 0.55
    shear = layers.RandomShear(0.3, 0.1, seed=0).get_random_transformation(torch.zeros(4000, 2, 2, 1))
    assert np.abs(shear[:, 0]).max() <= 0.3 and np.abs(shear[:, 1]).max() <= 0.1
    assert abs(float(shear[:, 0].mean())) < 0.02


def test_mixup_and_cutmix_mix_labels_consistently():
    labels = np.eye(6, dtype="float32")
    index_images = np.broadcast_to(np.arange(6, dtype="float32")[:, None, None, None],
                                   (6, 64, 64, 1)).copy()
    # CutMix weighs labels by the box's real-valued area, its mask takes whole pixels (Keras).
    for layer, atol in ((layers.MixUp(alpha=1.0, seed=2), 1e-4), (layers.CutMix(seed=2), 0.07)):
        out = layer({"images": index_images, "labels": labels})
        mixed, new_labels = out["images"].numpy(), out["labels"].numpy()
        np.testing.assert_allclose(new_labels.sum(1), 1.0, atol=1e-6)
        own = (mixed == index_images).mean(axis=(1, 2, 3)) if atol > 1e-3 else None
        if own is None:  # each image's mean index equals its labels' expected index
            np.testing.assert_allclose(mixed.mean(axis=(1, 2, 3)), new_labels @ np.arange(6),
                                       atol=atol)
        else:  # the share of its own pixels is its own label's weight (self-pairs excepted)
            kept = np.diag(new_labels) < 1.0
            np.testing.assert_allclose(own[kept], np.diag(new_labels)[kept], atol=atol)
        assert layer({"images": index_images, "labels": labels}, training=False)["labels"] is labels


def test_cutmix_on_one_image_and_statistics():
    np.testing.assert_array_equal(layers.CutMix(seed=0)(X[0]).numpy(), X[0])
    weights = layers.MixUp(alpha=0.2, seed=0).get_random_transformation(torch.zeros(5000, 1, 1, 1))[0]
    assert abs(float(weights.mean()) - 0.5) < 0.03  # Beta(0.2, 0.2) is symmetric about 1/2
    assert float(((weights < 0.1) | (weights > 0.9)).float().mean()) > 0.5


def test_equalization_flattens_histogram():
    x = np.random.default_rng(1).normal(128, 20, size=(4, 32, 32, 3)).clip(0, 255).astype("float32")
    out = layers.Equalization()(x).numpy()
    assert out.min() == 0.0 and out.max() == 255.0
    counts = np.histogram(out[..., 0], bins=4, range=(0, 256))[0]
    assert counts.min() > 0.15 * counts.sum()
    flat = np.full((2, 4, 4, 3), 9.0, dtype="float32")  # one bin: unchanged
    np.testing.assert_array_equal(layers.Equalization()(flat).numpy(), flat)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.RandomShear(0.1, fill_mode="bogus"), "fill_mode='bogus'"),
        (lambda: layers.RandomShear(0.1, interpolation="bicubic"), "interpolation='bicubic'"),
        (lambda: layers.RandomPerspective(interpolation="area"), "interpolation='area'"),
        (lambda: layers.RandomElasticTransform(fill_mode="edge"), "fill_mode='edge'"),
        (lambda: layers.RandomElasticTransform(interpolation="x"), "interpolation='x'"),
        (lambda: layers.RandomHue(1.5), "factor=1.5"),
        (lambda: layers.RandomSaturation(2), "factor=2"),
        (lambda: layers.RandomSharpness(-0.5), "factor=-0.5"),
        (lambda: layers.RandomPosterization(9), "factor=9"),
        (lambda: layers.RandomShear(x_factor=1.5), "x_factor=1.5"),
        (lambda: layers.RandomShear(y_factor=(0.1, 2)), r"y_factor=\(0.1, 2\)"),
        (lambda: layers.RandomShear(y_factor=-0.2), "y_factor=-0.2"),
        (lambda: layers.RandomPerspective(scale=1.5), "scale=1.5"),
        (lambda: layers.RandomElasticTransform(scale=3), "scale=3"),
        (lambda: layers.RandomErasing(scale=(0.1, 0.2, 0.3)), "scale="),
        (lambda: layers.RandomErasing(fill_value="red"), "fill_value=red"),
        (lambda: layers.RandomGaussianBlur(kernel_size=4), "kernel_size=4"),
        (lambda: layers.RandomGaussianBlur(sigma=2.0), "sigma=2.0"),
        (lambda: layers.CutMix(factor=2.0), "factor=2.0"),
        (lambda: layers.RandAugment(factor=1.5), "factor=1.5"),
        (lambda: layers.AugMix(factor=-1.0), "factor=-1.0"),
        (lambda: layers.RandomHue(0.1, value_range=(0, 1, 2)), "value_range="),
    ],
)
def test_bad_arguments_name_argument_and_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_choices_are_also_keras_not_implemented_error():
    with pytest.raises(NotImplementedError):
        layers.RandomShear(0.1, fill_mode="bogus")


def test_model_fit_pipeline_and_save(tmp_path):
    augment = layers.Pipeline([
        layers.RandomHue(0.2, seed=1), layers.RandomShear(0.2, seed=2),
        layers.RandomErasing(seed=3), layers.RandAugment(seed=4),
    ])
    np.testing.assert_array_equal(augment(X, training=False).numpy(), X)
    assert tuple(augment(X).shape) == X.shape
    inputs = keraslike.Input(shape=X.shape[1:])
    x = augment(inputs)
    x = layers.Rescaling(1 / 255)(x)
    outputs = layers.Dense(2)(layers.Flatten()(x))
    model = keraslike.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(X, np.zeros((6, 2), "float32"), epochs=1, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    model.save(tmp_path / "m.safetensors")
    loaded = keraslike.saving.load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               atol=1e-5)
    names = [type(layer).__name__ for layer in loaded.layers[1].layers]
    assert names == ["RandomHue", "RandomShear", "RandomErasing", "RandAugment"]


@pytest.mark.cuda
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_on_cuda_without_host_sync(name):
    layer = _make(name).to("cuda")
    images = torch.as_tensor(X, device="cuda")
    # First calls: per-size and per-device constants are made once per operation (a one-time
    # host-to-device copy); RandAugment and AugMix pick operations at random, so warm them all.
    for _ in range(40 if name in ("AugMix", "RandAugment") else 1):
        layer(images)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = layer(images)
        again = layer(images)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert out.device.type == "cuda" and out.shape == images.shape
    assert not torch.equal(out, images)
    assert not torch.equal(out, again) or name in DETERMINISTIC
    torch.testing.assert_close(layer(images, training=False), images)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MixUp"])  # its Beta draw once broke the graph
def test_compiles_with_fullgraph(name):
    torch._dynamo.reset()
    layer = _make(name)
    compiled = torch.compile(layer, fullgraph=True)
    images = torch.as_tensor(X)
    out, again = compiled(images, training=True), compiled(images, training=True)
    assert out.shape == images.shape and not torch.equal(out, again)
    torch.testing.assert_close(compiled(images, training=False), images)


def test_symbolic_and_meta_calls_draw_nothing():
    inputs = keraslike.Input(shape=(8, 8, 3))
    generator = keraslike.random.SeedGenerator(1)
    assert keraslike.ops.image.elastic_transform(inputs, seed=generator).shape == (None, 8, 8, 3)
    assert generator.state.tolist() == [1, 0]
    for name in ("RandomElasticTransform", "RandAugment", "AugMix", "MixUp", "RandomHue"):
        layer = _make(name)
        before = layer.generator.state.tolist()
        assert layer(inputs).shape == (None, 8, 8, 3)
        with torch.device("meta"):
            assert tuple(layer(torch.ones(2, 8, 8, 3)).shape) == (2, 8, 8, 3)
        assert layer.generator.state.tolist() == before

"""`model.summary()` prints exactly what Keras 3 prints."""

import pytest

import keraslike
from tests.models import seed_models


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _text(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines[0]


def _both(keras, builder):
    keras.backend.clear_session()
    theirs = builder(keras)
    keraslike.backend.clear_session()
    ours = builder(keraslike)
    return ours, theirs


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"expand_nested": True},
        {"show_trainable": True},
        {"line_length": 120},
        {"line_length": 100, "positions": [0.4, 0.7, 0.85, 1.0]},
        {"expand_nested": True, "show_trainable": True},
    ],
)
def test_autoencoder_summary_options(keras, options):
    ours, theirs = _both(keras, seed_models.encoder_decoder)
    assert _text(ours[-1], **options) == _text(theirs[-1], **options)


def test_sequential_and_frozen_layers(keras):
    def build(lib):
        model = lib.Sequential([lib.Input((8,)), lib.layers.Dense(4), lib.layers.Dense(2)], name="s")
        model.layers[0].trainable = False
        return model

    ours, theirs = _both(keras, build)
    assert _text(ours) == _text(theirs)
    assert _text(ours, show_trainable=True) == _text(theirs, show_trainable=True)


def test_layer_range(keras):
    ours, theirs = _both(keras, seed_models.toy_resnet)
    options = {"layer_range": ["conv2d_1", "add"]}
    assert _text(ours, **options) == _text(theirs, **options)


def test_summary_prints_to_stdout(capsys):
    model = seed_models.mnist_model(keraslike)
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "mnist_model"' in out and "Total params: 55,050 (215.04 KB)" in out

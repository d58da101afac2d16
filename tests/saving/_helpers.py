"""Shared helpers for the saving tests: seed models with sample inputs, output comparison."""

import numpy as np
import torch

from tests.models import seed_models


def _ticket(lib):
    return seed_models.ticket_model(lib, num_words=200)


def _encoder_decoder(lib):
    return seed_models.encoder_decoder(lib)[-1]


def _shared_graph_autoencoder(lib):
    return seed_models.shared_graph_autoencoder(lib)[-1]


def _ticket_inputs(rng):
    return [
        rng.integers(0, 200, (2, 7)).astype("float32"),
        rng.integers(0, 200, (2, 9)).astype("float32"),
        rng.random((2, 12)).astype("float32"),
    ]


# name -> (builder(lib) -> model, inputs(rng))
SEED_MODELS = {
    "mnist_model": (seed_models.mnist_model, lambda rng: rng.random((3, 784)).astype("float32")),
    "encoder_decoder": (_encoder_decoder, lambda rng: rng.random((2, 28, 28, 1)).astype("float32")),
    "shared_graph_autoencoder": (
        _shared_graph_autoencoder,
        lambda rng: rng.random((2, 28, 28, 1)).astype("float32"),
    ),
    "ensemble": (seed_models.ensemble, lambda rng: rng.random((3, 128)).astype("float32")),
    "ticket_model": (_ticket, _ticket_inputs),
    "toy_resnet": (seed_models.toy_resnet, lambda rng: rng.random((2, 32, 32, 3)).astype("float32")),
    "big_conv_sequential": (
        seed_models.big_conv_sequential,
        lambda rng: rng.random((1, 224, 224, 3)).astype("float32"),
    ),
}


def to_numpy_list(outputs):
    """Model outputs (tensor, list or dict; torch or Keras) as a list of numpy arrays."""
    if isinstance(outputs, dict):
        outputs = [outputs[k] for k in sorted(outputs)]
    elif not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    result = []
    for out in outputs:
        if isinstance(out, torch.Tensor):
            result.append(out.detach().cpu().numpy())
        else:
            import keras

            result.append(np.asarray(keras.ops.convert_to_numpy(out)))
    return result


def predict(model, x):
    """Inference outputs of a keraslike or Keras model, as a list of numpy arrays."""
    with torch.no_grad():
        return to_numpy_list(model(x))


def assert_same_outputs(a, b, atol=0.0):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.shape == v.shape
        if atol == 0.0:
            np.testing.assert_array_equal(u, v)
        else:
            np.testing.assert_allclose(u, v, rtol=0, atol=atol)


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines

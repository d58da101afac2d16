"""`print(model)` reads like torch's module reprs, in Keras's terms; `get_weights` returns copies."""

import numpy as np
import torch

import keraslike as keras
from keraslike import layers


def test_layer_reprs_show_defining_arguments_and_weight_shapes():
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", name="department")(x)
    text = repr(keras.Model(inputs, outputs))
    assert (
        "(department): Dense(name='department', units=10, activation='softmax', "
        "kernel=(5408, 10), bias=(10,))" in text
    )
    assert "Conv2D(name='conv2d', filters=8, kernel_size=(3, 3), strides=(1, 1), padding='valid'" in text
    assert "activation='relu', kernel=(3, 3, 1, 8), bias=(8,))" in text
    assert "BatchNormalization(name='batch_normalization', axis=-1, epsilon=0.001, momentum=0.99, gamma=(8,)" in text
    assert "Dropout(name='dropout', rate=0.3)" in text
    assert repr(layers.Embedding(10, 4)) == "Embedding(name='embedding', input_dim=10, output_dim=4)"
    assert repr(layers.Dense(3)) == "Dense(name='dense', units=3)"  # not built: no shapes yet


def test_get_weights_returns_copies():
    layer = layers.Dense(2)
    layer.build((None, 3))
    kernel, bias = layer.get_weights()
    snapshot = kernel.copy()
    with torch.no_grad():
        layer.weight.add_(1.0)
        layer.bias.add_(1.0)
    np.testing.assert_array_equal(kernel, snapshot)
    assert not np.shares_memory(layer.get_weights()[1], layer.bias.detach().numpy())

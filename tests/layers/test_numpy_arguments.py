"""Constructor arguments given as NumPy scalars, arrays and dtypes, as Keras 3 takes them."""

import json

import numpy as np
import pytest

import keraslike as keras


def test_numpy_scalars_arrays_and_dtypes_are_taken_as_keras_takes_them():
    x = keras.Input((4,), dtype=np.float32)
    assert x.dtype == "float32"
    assert keras.Input((4,), dtype=np.dtype("int64")).dtype == "int64"
    dropout = keras.layers.Dropout(np.float32(0.25))
    noise = keras.layers.GaussianNoise(np.float64(0.1))
    reshape = keras.layers.Reshape(np.array([2, 2]))
    assert reshape(x).shape == (None, 2, 2)
    assert dropout(x).shape == (None, 4) and noise(x).shape == (None, 4)
    configs = [layer.get_config() for layer in (dropout, noise, reshape)]
    json.dumps(configs)  # plain numbers: the configs save
    assert configs[0]["rate"] == 0.25 and type(configs[0]["rate"]) is float
    assert configs[2]["target_shape"] == (2, 2)
    with pytest.raises(ValueError, match="rate"):
        keras.layers.Dropout(np.float32(1.5))


def test_a_list_axis_for_batch_normalization_is_keras_s_type_error():
    with pytest.raises(TypeError, match='axis.*"batch_normalization'):
        keras.layers.BatchNormalization(axis=[-1])


def test_numpy_rates_slopes_and_shapes_in_more_layers_and_ops():
    x = keras.Input((5, 3))
    assert keras.layers.LeakyReLU(negative_slope=np.float32(0.2))(x).shape == (None, 5, 3)
    assert keras.layers.LSTM(2, dropout=np.float32(0.1), recurrent_dropout=np.float64(0.1))(x).shape == (None, 2)
    assert keras.layers.MultiHeadAttention(2, 4, dropout=np.float32(0.1))(x, x).shape == (None, 5, 3)
    assert keras.ops.reshape(x, np.array([-1, 15])).shape == (None, 15)
    data = np.arange(6, dtype="float32").reshape(1, 2, 3)
    np.testing.assert_array_equal(np.asarray(keras.ops.reshape(data, np.array([3, 2]))), data.reshape(3, 2))

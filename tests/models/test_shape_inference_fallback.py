"""Shape inference falls back to small real tensors when a call cannot run on `meta` tensors,
keeping unknown dimensions `None` (Keras 3's torch backend does the same)."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers


def _tiler_class(lib):
    class Tiler(lib.layers.Layer):
        """Reads a value (`.item()`) to compute the repeat count."""

        def call(self, x):
            reps = int(lib.ops.convert_to_numpy(x[0, 0] * 0 + 2))
            return lib.ops.tile(x, [1, reps])

    return Tiler


def test_value_reading_layer_gets_its_shape_as_in_keras(keras_oracle):
    shapes = []
    for lib in (keras, keras_oracle):
        inputs = lib.Input((3,))
        outputs = _tiler_class(lib)()(inputs)
        shapes.append(tuple(outputs.shape))
    assert shapes[0] == shapes[1] == (None, 6)


def test_value_reading_layer_runs_in_a_model():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, _tiler_class(keras)()(inputs))
    data = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    torch.testing.assert_close(model(data), data.repeat(1, 2))


def test_data_dependent_shape_is_none():
    class Positive(layers.Layer):
        def call(self, x):
            return x[x > 0.5]

    inputs = keras.Input((4,))
    assert Positive()(inputs).shape == (None,)


def test_fallback_leaves_state_and_random_stream_alone():
    class Reads(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.bn = layers.BatchNormalization()

        def call(self, x, training=None):
            y = self.bn(x, training=True)
            reps = int((y[0, 0] * 0 + 1).item())
            return torch.tile(y, (1, reps))

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    layer = Reads()
    inputs = keras.Input((2,))
    assert layer(inputs).shape == (None, 2)
    assert torch.equal(torch.rand(3), expected)
    torch.testing.assert_close(layer.bn.running_mean, torch.zeros(2))


def test_a_call_failing_on_real_tensors_too_names_the_layer():
    class Broken(layers.Layer):
        def call(self, x):
            raise ValueError("bad input")

    with pytest.raises(ValueError, match='layer "broken".*bad input'):
        Broken()(keras.Input((2,)))

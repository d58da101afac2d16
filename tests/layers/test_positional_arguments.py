"""Keras's rule for positional call arguments: tensors, arrays or None; other values go by keyword.

Keras 3 raises ValueError ("Only input tensors may be passed as positional arguments") before
the layer builds, so `Dense(2)([1.0, 2.0])` never reaches a kernel shape built from a float.
"""

import numpy as np
import pytest
import torch

import keraslike as keras


class _Scale(keras.layers.Layer):
    def call(self, x, factor=2.0):
        return x * factor


class _Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize("value", [[1.0, 2.0], 3.0, "text", (torch.ones(1, 3), 2)])
def test_non_tensor_positional_arguments_raise_keras_value_error(value):
    layer = keras.layers.Dense(2, name="projector")
    args = value if isinstance(value, tuple) else (value,)
    with pytest.raises(ValueError, match=r"Only input tensors may be passed as positional.*'projector'"):
        layer(*args)
    assert not layer.built


def test_a_python_value_for_a_call_argument_goes_by_keyword():
    layer = _Scale()
    x = torch.ones(1, 3)
    with pytest.raises(ValueError, match="should be passed as a keyword argument: 3.0"):
        layer(x, 3.0)
    assert torch.equal(layer(x, factor=3.0), torch.full((1, 3), 3.0))
    assert torch.equal(layer(x, torch.tensor(4.0)), torch.full((1, 3), 4.0))


def test_arrays_and_none_are_accepted_positionally():
    layer = keras.layers.Dense(2, kernel_initializer="ones")
    out = layer(np.ones((1, 3), "float32"))
    assert np.allclose(out.detach().numpy(), 3.0)
    assert np.allclose(layer(np.float32(1.0) * np.ones((2, 3), "float32")).detach().numpy(), 3.0)


def test_a_subclassed_model_follows_the_rule_and_a_graph_model_names_its_input():
    with pytest.raises(ValueError, match="Only input tensors"):
        _Net()([1.0, 2.0, 3.0])
    a = keras.Input((3,), name="a")
    model = keras.Model(a, keras.layers.Dense(2)(a))
    with pytest.raises(ValueError, match='"functional".*takes numbers'):
        model(np.array(["x", "y", "z"]).reshape(1, 3))


def test_data_layers_take_python_lists_as_keras():
    lookup = keras.layers.StringLookup(vocabulary=["a", "b"])
    assert np.asarray(lookup(["a", "b", "z"])).tolist() == [1, 2, 0]
    assert np.allclose(np.asarray(keras.layers.Rescaling(2.0)([[1.0, 2.0]])), [[2.0, 4.0]])

"""`layer.kernel`-style attributes in Keras's layout behave like Keras Variables."""

import numpy as np
import pytest
import torch

import keraslike as keras


def _built(layer, shape):
    layer.build(shape)
    return layer


@pytest.mark.parametrize(
    "layer, shape, name",
    [
        (lambda: keras.layers.Dense(3), (None, 4), "kernel"),
        (lambda: keras.layers.Conv2D(2, 3), (None, 5, 5, 1), "kernel"),
        (lambda: keras.layers.DepthwiseConv2D(3), (None, 5, 5, 2), "kernel"),
        (lambda: keras.layers.EinsumDense("ab,bc->ac", output_shape=3), (None, 4), "kernel"),
    ],
)
def test_permuted_weight_has_the_variable_api(layer, shape, name):
    layer = _built(layer(), shape)
    view = getattr(layer, name)
    expected = layer.get_weights()[0]
    np.testing.assert_array_equal(view.numpy(), expected)
    np.testing.assert_array_equal(np.array(view), expected)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(view), expected)
    assert view.path == f"{layer.name}/{name}" and view.name == name and view.trainable
    assert view.value is view
    new = np.arange(expected.size, dtype="float32").reshape(expected.shape)
    view.assign(new)  # writes through to the stored (torch-layout) weight
    np.testing.assert_array_equal(layer.get_weights()[0], new)
    view.assign_add(np.ones_like(new))
    np.testing.assert_array_equal(getattr(layer, name).numpy(), new + 1)


def test_view_keeps_the_gradient_link_and_ops_give_plain_tensors():
    layer = _built(keras.layers.Dense(3), (None, 4))
    view = layer.kernel
    out = view * 2
    assert type(out) is torch.Tensor
    out.sum().backward()
    stored = next(p for p in layer.parameters() if p.shape == (3, 4))
    torch.testing.assert_close(stored.grad, torch.full((3, 4), 2.0))


def test_frozen_kernel_view_is_not_trainable():
    layer = _built(keras.layers.Dense(3), (None, 4))
    layer.trainable = False
    assert not layer.kernel.trainable


def test_lora_kernel_is_the_merged_tensor_as_in_keras():
    layer = _built(keras.layers.Dense(3), (None, 4))
    layer.enable_lora(2)
    with torch.no_grad():
        layer.lora_kernel_b.fill_(1.0)
    merged = layer.kernel
    assert not hasattr(merged, "assign")
    assert not torch.equal(merged.detach(), layer._lora_base_keras().detach())


def test_compiled_call_reading_the_keras_kernel_has_no_graph_break():
    class Scaled(keras.layers.Dense):
        def call(self, x):
            return x @ self.kernel * 2.0

    layer = _built(Scaled(3), (None, 4))
    x = torch.randn(2, 4)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x), layer(x))


def test_bfloat16_weights_convert_to_numpy_like_keras():
    import ml_dtypes

    layer = _built(keras.layers.Dense(3, dtype="bfloat16"), (None, 4))
    weights = layer.get_weights()
    assert [w.dtype for w in weights] == [ml_dtypes.bfloat16] * 2
    assert weights[0].shape == (4, 3) and weights[0].flags["C_CONTIGUOUS"]
    assert layer.kernel.numpy().dtype == ml_dtypes.bfloat16
    assert layer.bias.numpy().dtype == ml_dtypes.bfloat16
    layer.set_weights(weights)
    np.testing.assert_array_equal(layer.get_weights()[0].astype("float32"), weights[0].astype("float32"))


def test_ml_dtypes_bfloat16_arrays_become_bfloat16_tensors():
    import ml_dtypes

    array = np.array([[1.5, -2.0]], dtype=ml_dtypes.bfloat16)
    tensor = keras.ops.convert_to_tensor(array)
    assert tensor.dtype == torch.bfloat16
    torch.testing.assert_close(keras.ops.add(array, 1).float(), torch.tensor([[2.5, -1.0]]))

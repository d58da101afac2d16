"""`torch.autograd.grad` and `backward(inputs=...)` with respect to weights shown in Keras's
layout (`v.value` of a Dense kernel, an LSTM bias, a GRU kernel with its gates reordered):
gradients in Keras's layout, equal to Keras 3's, where Keras's `v.value` is the parameter the
forward used. keraslike's forward uses the stored (torch-layout) weight; the views redirect
autograd to it, so the forward is unchanged."""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")

_MODELS = {
    "dense": (lambda L: [L.Dense(3, activation="tanh"), L.Dense(2)], (5,)),
    "conv2d": (lambda L: [L.Conv2D(2, 3), L.Flatten(), L.Dense(2)], (6, 6, 3)),
    "conv2d_transpose": (lambda L: [L.Conv2DTranspose(2, 3), L.GlobalAveragePooling2D()], (4, 4, 3)),
    "depthwise": (lambda L: [L.DepthwiseConv2D(3, depth_multiplier=2), L.Flatten()], (5, 5, 2)),
    "einsum_dense": (lambda L: [L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")], (4,)),
    "lstm": (lambda L: [L.LSTM(3)], (4, 2)),
    "gru": (lambda L: [L.GRU(3)], (4, 2)),
    "embedding": (lambda L: [L.Embedding(7, 3), L.Flatten()], (4,)),
}


def _pair(name):
    make, shape = _MODELS[name]
    models = []
    for lib in (keras, keraslike):
        lib.utils.set_random_seed(0)
        models.append(lib.Sequential([lib.Input(shape)] + make(lib.layers)))
    expected, model = models
    model.set_weights(expected.get_weights())
    rng = np.random.default_rng(0)
    if name == "embedding":
        x = rng.integers(0, 7, size=(2,) + shape)
    else:
        x = rng.standard_normal((2,) + shape).astype("float32")
    return expected, model, torch.from_numpy(x)


def _loss(model, x):
    return (model(x) ** 2).mean()


def _assert_grads_equal(grads, keras_grads, variables):
    assert len(grads) == len(keras_grads)
    for g, want, v in zip(grads, keras_grads, variables):
        assert tuple(g.shape) == tuple(v.shape) == tuple(want.shape), v.path
        np.testing.assert_allclose(g.detach().numpy(), want.detach().cpu().numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=v.path)


@pytest.mark.parametrize("name", sorted(_MODELS))
def test_autograd_grad_of_values_equals_keras(name):
    expected, model, x = _pair(name)
    keras_grads = torch.autograd.grad(
        _loss(expected, x), [v.value for v in expected.trainable_variables]
    )
    variables = model.trainable_variables
    grads = torch.autograd.grad(_loss(model, x), [v.value for v in variables])
    _assert_grads_equal(grads, keras_grads, variables)


@pytest.mark.parametrize("name", ["dense", "lstm", "gru"])
def test_autograd_grad_of_the_weights_themselves(name):
    # Keras 3.15.1 itself recurses without end on its Variables (not their `.value`) here;
    # keraslike's weights are tensors, so this works too, with the same gradients.
    expected, model, x = _pair(name)
    keras_grads = torch.autograd.grad(
        _loss(expected, x), [v.value for v in expected.trainable_weights]
    )
    weights = model.trainable_weights
    _assert_grads_equal(torch.autograd.grad(_loss(model, x), weights), keras_grads, weights)
    # A single view (not in a list) gives a one-tuple, as torch does.
    (kernel_grad,) = torch.autograd.grad(_loss(model, x), weights[0])
    _assert_grads_equal([kernel_grad], keras_grads[:1], weights[:1])


@pytest.mark.parametrize("name", ["dense", "conv2d", "gru"])
def test_backward_then_value_grad_equals_keras(name):
    # The custom-training-loop guide for torch: loss.backward(), then v.value.grad.
    expected, model, x = _pair(name)
    _loss(expected, x).backward()
    keras_grads = [v.value.grad for v in expected.trainable_weights]
    _loss(model, x).backward()
    weights = model.trainable_weights
    _assert_grads_equal([v.value.grad for v in weights], keras_grads, weights)
    # backward(inputs=...) accumulates into the stored weights behind the views.
    model.zero_grad()
    _loss(model, x).backward(inputs=weights)
    _assert_grads_equal([v.grad for v in weights], keras_grads, weights)
    model.zero_grad()
    torch.autograd.backward(_loss(model, x), inputs=model.trainable_weights)
    _assert_grads_equal([v.grad for v in weights], keras_grads, weights)


def test_grads_apply_like_keras():
    expected, model, x = _pair("gru")
    for m in (expected, model):
        variables = m.trainable_variables
        grads = torch.autograd.grad(_loss(m, x), [v.value for v in variables])
        optimizer = (keras if m is expected else keraslike).optimizers.SGD(0.1)
        with torch.no_grad():
            optimizer.apply(grads, variables)
    for got, want in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_unused_weight_and_second_order_gradients():
    model = keraslike.Sequential([keraslike.Input((3,)), keraslike.layers.Dense(2)])
    kernel, bias = model.trainable_variables
    x = torch.ones(4, 3)
    # allow_unused: a weight the loss does not reach gives None.
    assert torch.autograd.grad(bias.sum(), [kernel], allow_unused=True) == (None,)
    # create_graph: the Keras-layout gradient stays differentiable (a gradient penalty).
    (grad,) = torch.autograd.grad((model(x) ** 2).sum(), [kernel.value], create_graph=True)
    assert tuple(grad.shape) == (3, 2)
    (grad ** 2).sum().backward()
    assert kernel.grad is not None and tuple(kernel.grad.shape) == (3, 2)
    # is_grads_batched: one Keras-layout gradient per row of grad_outputs (a Jacobian).
    (jacobian,) = torch.autograd.grad(model(x).sum(0), [kernel], grad_outputs=torch.eye(2),
                                      is_grads_batched=True)
    expected = np.zeros((2, 3, 2), "float32")
    expected[0, :, 0] = expected[1, :, 1] = 4.0
    np.testing.assert_allclose(jacobian.numpy(), expected)


def test_ops_on_views_still_give_plain_tensors():
    layer = keraslike.layers.Dense(3)
    layer.build((None, 4))
    view = layer.kernel
    out = torch.ones(2, 4) @ view
    assert type(out) is torch.Tensor and type(view * 2) is torch.Tensor
    assert tuple(view.shape) == (4, 3) and view.value is view

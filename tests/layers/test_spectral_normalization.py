"""SpectralNormalization against Keras 3 (torch backend): power iteration state, training and
inference outputs, weight order, configs, a fit trajectory, saving."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import assert_configs_equal

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(3)


def _pair(make, x, power_iterations=1):
    theirs = keras.layers.SpectralNormalization(make(keras), power_iterations=power_iterations)
    ours = keraslike.layers.SpectralNormalization(make(keraslike),
                                                  power_iterations=power_iterations)
    theirs(x)
    ours(torch.as_tensor(x))
    ours.set_weights(theirs.get_weights())
    return ours, theirs


LAYERS = {
    "dense": (lambda lib: lib.layers.Dense(3), lambda: RNG.random((2, 4), dtype="float32")),
    "conv2d": (lambda lib: lib.layers.Conv2D(2, 2, use_bias=False),
               lambda: RNG.random((2, 5, 5, 3), dtype="float32")),
    "conv1d": (lambda lib: lib.layers.Conv1D(4, 3), lambda: RNG.random((2, 6, 2), dtype="float32")),
    "embedding": (lambda lib: lib.layers.Embedding(6, 3), lambda: RNG.integers(0, 6, (2, 4))),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("power_iterations", [1, 3])
def test_training_and_inference_equal_keras(kind, power_iterations):
    make, data = LAYERS[kind]
    x = data()
    ours, theirs = _pair(make, x, power_iterations)
    # Keras's order: the wrapped kernel first, then vector_u, then the wrapped layer's others.
    assert [w.path.split("/")[-1] for w in ours.weights] == [
        w.path.split("/")[-1] for w in theirs.weights]
    assert [tuple(w.shape) for w in theirs.get_weights()] == [w.shape for w in ours.get_weights()]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    for training in (False, True, True, False):
        k_out = theirs(x, training=training)
        o_out = ours(torch.as_tensor(x), training=training)
        if kind != "embedding":  # Keras casts an Embedding's output to the integer input dtype
            np.testing.assert_allclose(o_out.detach().numpy(), k_out.detach().numpy(),
                                       rtol=1e-5, atol=1e-6)
        # The power-iteration state and the rescaled kernel follow Keras's step by step.
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert_configs_equal(ours.get_config(), theirs.get_config())


def test_spectral_norm_of_the_kernel_approaches_one():
    layer = keraslike.layers.SpectralNormalization(keraslike.layers.Dense(5), power_iterations=1)
    x = torch.randn(3, 8)
    layer(x)
    with torch.no_grad():
        layer.layer.weight.mul_(7.0)
    for _ in range(30):
        layer(x, training=True)
    sigma = torch.linalg.matrix_norm(layer.kernel.detach(), ord=2)
    assert abs(float(sigma) - 1.0) < 1e-3
    before = layer.kernel.clone()
    layer(x)  # inference leaves the kernel as it is
    torch.testing.assert_close(layer.kernel, before)
    zero = keraslike.layers.SpectralNormalization(keraslike.layers.Dense(2, kernel_initializer="zeros"))
    zero(x)
    u = zero.vector_u.clone()
    zero(x, training=True)  # an all-zero kernel is left alone (no NaN)
    assert torch.equal(zero.vector_u, u) and torch.all(zero.kernel == 0)


def _model(lib):
    inputs = lib.Input((4,))
    hidden = lib.layers.SpectralNormalization(lib.layers.Dense(6, activation="relu"))(inputs)
    return lib.Model(inputs, lib.layers.Dense(1)(hidden))


@pytest.mark.slow
def test_fit_trajectory_config_and_saving_equal_keras(tmp_path):
    x = RNG.random((16, 4), dtype="float32")
    y = RNG.random((16, 1), dtype="float32")
    keras.backend.clear_session()
    keraslike.backend.clear_session()
    theirs, ours = _model(keras), _model(keraslike)
    ours.set_weights(theirs.get_weights())
    assert_configs_equal(ours.get_config(), theirs.get_config())  # training=False in the node
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    ours.compile(optimizer=keraslike.optimizers.SGD(0.1), loss="mse")
    k_hist = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]
    o_hist = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(o_hist, k_hist, rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    ours.save(tmp_path / "sn.safetensors")
    again = keraslike.saving.load_model(tmp_path / "sn.safetensors")
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0), atol=1e-6)
    for a, b in zip(again.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    with pytest.raises(ValueError, match="power_iterations=0"):
        keraslike.layers.SpectralNormalization(keraslike.layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="isn't a supported layer"):
        keraslike.layers.SpectralNormalization(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="nor 'embeddings'"):
        keraslike.layers.SpectralNormalization(keraslike.layers.ReLU())(torch.zeros(2, 3))


@pytest.mark.slow
def test_compiles_fullgraph():
    layer = keraslike.layers.SpectralNormalization(keraslike.layers.Dense(3))
    x = torch.randn(2, 4)
    layer(x)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    reference = keraslike.layers.SpectralNormalization(keraslike.layers.Dense(3))
    reference(x)
    reference.set_weights(layer.get_weights())
    torch.testing.assert_close(compiled(x, training=True), reference(x, training=True))


@pytest.mark.cuda
def test_on_cuda_the_update_stays_on_the_device_without_host_sync():
    cpu = keraslike.layers.SpectralNormalization(keraslike.layers.Conv2D(4, 3), power_iterations=2)
    x = torch.randn(2, 6, 6, 3)
    cpu(x)
    gpu = keraslike.layers.SpectralNormalization(keraslike.layers.Conv2D(4, 3), power_iterations=2)
    gpu(x)
    gpu.set_weights(cpu.get_weights())
    gpu.to("cuda")
    xc = x.cuda()
    gpu(xc, training=True)  # warm-up (kernels, allocator)
    cpu(x, training=True)
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = gpu(xc, training=True)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    expected = cpu(x, training=True)
    assert out.device.type == "cuda" and gpu.vector_u.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-4, atol=1e-4)
    for a, b in zip(gpu.get_weights(), cpu.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_normalized_weights_equals_keras_without_assigning():
    make, data = LAYERS["conv2d"]
    x = data()
    ours, theirs = _pair(make, x, power_iterations=2)
    u, kernel = ours.normalized_weights()
    k_u, k_kernel = theirs.normalized_weights()
    np.testing.assert_allclose(u.numpy(), k_u.detach().numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(kernel.numpy(), k_kernel.detach().numpy(), rtol=1e-5, atol=1e-7)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was assigned

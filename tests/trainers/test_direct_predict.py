"""`predict` / `predict_on_batch` on one numpy array: the direct path gives what the loop gives,
and steps aside whenever the loop would do something more."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers
from keraslike.trainers import direct_predict


def _mlp():
    inputs = keras.Input(shape=(6,))
    x = layers.Dense(5, activation="relu")(inputs)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(3)(x))


def _loop(model, x, **kwargs):
    """The loop's answer (a callback list forces it)."""
    return model.predict(x, verbose=0, callbacks=[keras.callbacks.Callback()], **kwargs)


def test_direct_path_equals_the_loop_and_is_taken():
    model = _mlp()
    x = np.random.default_rng(0).normal(size=(70, 6)).astype("float32")
    expected = _loop(model, x, batch_size=32)
    assert model.__dict__.get("_direct_predict") is None
    got = model.predict(x, verbose=0, batch_size=32)
    assert model.__dict__["_direct_predict"][2] is not None  # the direct path ran
    np.testing.assert_array_equal(got, expected)
    # One sample against the loop on that one sample (a batch of 1 and a batch of 32 may round
    # differently in the matmul).
    np.testing.assert_array_equal(model.predict_on_batch(x[:1]), _loop(model, x[:1]))
    # float64 data is cast to the float32 Input, as the loop does.
    np.testing.assert_allclose(model.predict_on_batch(x.astype("float64")), expected, rtol=1e-6)


def test_outputs_are_fresh_arrays():
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, [layers.Identity()(inputs), layers.Dense(2)(inputs)])
    x = np.ones((2, 4), dtype="float32")
    for out in (model.predict(x, verbose=0)[0], model.predict_on_batch(x)[0]):
        assert model.__dict__["_direct_predict"][2] is not None
        out[0, 0] = 5.0
        assert x[0, 0] == 1.0


def test_multi_output_structure():
    inputs = keras.Input(shape=(3,))
    a = layers.Dense(2, name="a")(inputs)
    b = layers.Dense(4, name="b")(inputs)
    model = keras.Model(inputs, {"a": a, "b": b})
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    got = model.predict(x, verbose=0)
    expected = _loop(model, x)
    assert set(got) == {"a", "b"}
    for key in got:
        np.testing.assert_array_equal(got[key], expected[key])


def test_train_mode_hooks_and_overrides_take_the_loop():
    model = _mlp()
    x = np.ones((2, 6), dtype="float32")
    model.train()
    assert direct_predict.lookup(model, lambda cls: True) is None
    model.eval()
    assert direct_predict.lookup(model, lambda cls: True) is not None
    seen = []
    handle = model.get_layer(index=1).register_forward_hook(lambda *a: seen.append(1))
    model.predict(x, verbose=0)
    assert seen == [1]  # the hook ran: the steps were rebuilt with module calls
    handle.remove()

    class Custom(keras.Model):
        def predict_step(self, data):
            return super().predict_step(data) * 0 + 7

    inputs = keras.Input(shape=(6,))
    custom = Custom(inputs, layers.Dense(3)(inputs))
    np.testing.assert_array_equal(custom.predict_on_batch(x), np.full((2, 3), 7, "float32"))
    np.testing.assert_array_equal(custom.predict(x, verbose=0), np.full((2, 3), 7, "float32"))


def test_training_flag_is_false_and_no_grad():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen.append((training, torch.is_grad_enabled()))
            return x

    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, Probe()(layers.Dense(2)(inputs)))
    seen.clear()  # the symbolic call's shape inference
    model.predict_on_batch(np.zeros((1, 2), "float32"))
    model.predict(np.zeros((3, 2), "float32"), verbose=0)
    assert seen == [(False, False), (False, False)]


def test_rank_adjustment_and_bad_shapes_keep_the_loop_semantics():
    inputs = keras.Input(shape=(3, 1))
    model = keras.Model(inputs, layers.Flatten()(inputs))
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # trailing 1 added by the loop
    with pytest.raises(ValueError, match="expects data of shape"):
        model.predict(np.zeros((2, 4, 1), "float32"), verbose=0)


@pytest.mark.cuda
def test_numpy_calls_on_a_cuda_model():
    model = _mlp().to("cuda")
    x = np.random.default_rng(2).normal(size=(3, 6)).astype("float32")
    expected = _loop(model, x)
    out = model(x)  # the array goes where the weights are
    assert out.device.type == "cuda"
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), expected, rtol=1e-5, atol=1e-6)
    assert model.__dict__["_direct_predict"][2] is not None
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_model_call_on_numpy_follows_the_weights_device():
    model = _mlp()
    x = np.ones((2, 6), dtype="float64")
    out = model(x)
    assert out.dtype == torch.float32 and out.device == model.get_layer(index=1).weight.device
    np.testing.assert_allclose(out.detach().numpy(), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.cuda
def test_a_cpu_built_model_takes_the_direct_path_once_the_loop_moved_it():
    model = _mlp()
    x = np.ones((2, 6), dtype="float32")
    first = model.predict_on_batch(x)  # the loop moves the model to CUDA
    assert model.get_layer(index=1).weight.device.type == "cuda"
    np.testing.assert_allclose(model.predict_on_batch(x), first, rtol=1e-6)
    assert model.__dict__["_direct_predict"][2] is not None


@pytest.mark.parametrize("path", ["predict", "predict_on_batch", "predict_with_callback"])
def test_bfloat16_outputs_come_back_as_ml_dtypes_bfloat16_like_keras(path):
    import ml_dtypes

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, dtype="mixed_bfloat16")(inputs))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    if path == "predict":
        out = model.predict(x, verbose=0)
    elif path == "predict_on_batch":
        out = model.predict_on_batch(x)
    else:
        out = model.predict(x, verbose=0, callbacks=[keras.callbacks.Callback()])
    assert out.dtype == ml_dtypes.bfloat16 and out.shape == (5, 3)
    expected = model(torch.as_tensor(x)).float().detach().numpy()
    np.testing.assert_array_equal(out.astype("float32"), expected)


def test_convert_to_numpy_of_bfloat16_is_ml_dtypes_bfloat16():
    import ml_dtypes

    out = keras.ops.convert_to_numpy(torch.tensor([1.5, -2.0], dtype=torch.bfloat16))
    assert out.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(out.astype("float32"), [1.5, -2.0])

"""Top-level, `keras.config`, `keras.backend` and `keras.utils` names added for Keras 3 API breadth."""

import logging

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike.variables import Variable


def test_base_classes_are_the_package_classes():
    assert keras.Initializer is keras.initializers.Initializer
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer
    assert keras.Regularizer is keras.regularizers.Regularizer
    assert keras.InputSpec is keras.layers.InputSpec
    assert isinstance(keras.version(), str) and keras.version() == keras.__version__


def test_variable():
    v = keras.Variable(initializer="ones", shape=(2, 2), name="v")
    assert v.name == "v" and v.trainable and v.requires_grad
    v.assign(v * 3)
    np.testing.assert_array_equal(v.numpy(), np.full((2, 2), 3.0, "float32"))
    v.assign_add(np.ones((2, 2), "float32"))
    v.assign_sub(2.0)
    np.testing.assert_array_equal(v.value.detach().numpy(), np.full((2, 2), 2.0, "float32"))
    counter = keras.Variable(0, dtype="int32", trainable=False)
    assert not counter.requires_grad and counter.dtype == torch.int32
    with pytest.raises(ValueError, match="shape"):
        keras.Variable("zeros")

    class Scale(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.scale = Variable("ones", shape=(3,))

        def call(self, x):
            return x * self.scale

    layer = Scale()
    assert [name for name, _ in layer.named_parameters()] == ["scale"]
    layer(torch.ones(2, 3)).sum().backward()
    assert torch.equal(layer.scale.grad, torch.full((3,), 2.0))


def _fit_batches(**kwargs):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    seen = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    x, y = np.ones((32, 3), "float32"), np.ones((32, 1), "float32")
    history = model.fit(x, y, batch_size=4, verbose=0, callbacks=[callback], **kwargs)
    return len(history.history["loss"]), seen


def test_config_epoch_and_step_caps():
    explicit = _fit_batches(epochs=2, steps_per_epoch=3)
    try:
        keras.config.set_max_epochs(2)
        keras.config.set_max_steps_per_epoch(3)
        assert keras.config.max_epochs() == 2 and keras.config.max_steps_per_epoch() == 3
        capped = _fit_batches(epochs=5)
    finally:
        keras.config.set_max_epochs(None)
        keras.config.set_max_steps_per_epoch(None)
    assert capped[0] == 2
    assert capped == explicit  # the step cap acts as steps_per_epoch does


def test_interactive_logging_switch(capsys, caplog):
    bar = keras.utils.Progbar(3, verbose=2)
    try:
        keras.config.disable_interactive_logging()
        assert not keras.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="keras"):
            bar.update(3, values=[("loss", 1.0)], finalize=True)
        assert capsys.readouterr().out == ""
        assert "loss" in caplog.text
    finally:
        keras.config.enable_interactive_logging()
    assert keras.config.is_interactive_logging_enabled()


def test_flash_attention_switch():
    q = torch.randn(2, 5, 2, 8)
    expected = keras.ops.dot_product_attention(q, q, q)
    assert keras.config.is_flash_attention_enabled() is None
    try:
        keras.config.disable_flash_attention()
        assert keras.config.is_flash_attention_enabled() is False
        assert torch.allclose(keras.ops.dot_product_attention(q, q, q), expected, atol=1e-6)
    finally:
        from keraslike.backend import runtime_flags

        runtime_flags._STATE["flash_attention"] = None


def test_config_backend_and_unsafe_switch():
    assert keras.config.backend() == "torch"
    assert callable(keras.config.enable_unsafe_deserialization)


def test_backend_helpers():
    keras.backend.clear_session()
    keras.layers.Dense(2)  # named "dense"
    assert keras.backend.get_uid("dense") == 2
    assert keras.backend.get_uid("thing") == 1 and keras.backend.get_uid("thing") == 2
    assert keras.backend.is_keras_tensor(keras.Input((2,)))
    assert not keras.backend.is_keras_tensor(torch.ones(2))
    assert keras.backend.result_type("int32", float) == "float32"
    assert keras.backend.is_float_dtype("bfloat16") and keras.backend.is_int_dtype("uint8")
    assert keras.utils.standardize_dtype(torch.float16) == "float16"


def test_utils_config():
    config = keras.utils.Config(learning_rate=0.1)
    config.momentum = 0.9
    assert config["momentum"] == 0.9 and config.learning_rate == 0.1
    assert config.as_dict() == {"learning_rate": 0.1, "momentum": 0.9}
    assert list(config) == ["learning_rate", "momentum"]
    config.freeze()
    with pytest.raises(ValueError, match="frozen"):
        config.x = 1
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun  # noqa: B018


def test_get_source_inputs():
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    c = keras.layers.Add()([keras.layers.Dense(2)(a), b])
    d = keras.layers.Dense(1)(c)
    sources = keras.utils.get_source_inputs(d)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert keras.utils.get_source_inputs(a)[0] is a


def test_pack_unpack_match_keras(keras_oracle):
    x, y, w = np.ones(2), np.zeros(2), np.ones(2)
    for args in [(x,), (x, y), (x, y, w), ((x, y),)]:
        ours = keras.utils.pack_x_y_sample_weight(*args)
        theirs = keras_oracle.utils.pack_x_y_sample_weight(*args)
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
    for data in [x, (x,), (x, y), [x, y, w]]:
        ours = keras.utils.unpack_x_y_sample_weight(data)
        theirs = keras_oracle.utils.unpack_x_y_sample_weight(data)
        assert [o is t for o, t in zip(ours, theirs)] == [True, True, True]
    with pytest.raises(ValueError):
        keras.utils.unpack_x_y_sample_weight((x, y, w, w))


def test_device_and_name_scope():
    with keras.device("cpu"):
        assert keras.ops.ones((2,)).device.type == "cpu"
    with keras.name_scope("block"):
        with keras.name_scope("inner"):
            assert keras.name_scope.current_path() == "block/inner"
    assert keras.name_scope.current_path() == ""
    with pytest.raises(ValueError):
        keras.name_scope("a/b")


def test_registry_helpers():
    @keras.saving.register_keras_serializable(package="T")
    def my_fn(x):
        return x

    assert keras.utils.get_registered_name(my_fn) == "T>my_fn"
    assert keras.utils.get_registered_object("T>my_fn") is my_fn
    assert "T>my_fn" in keras.utils.get_custom_objects()
    config = keras.utils.serialize_keras_object(keras.layers.Dense(2))
    assert isinstance(keras.utils.deserialize_keras_object(config), keras.layers.Dense)


def test_function_matches_keras(keras_oracle):
    x = keras.Input((3,))
    dense = keras.layers.Dense(2)
    f = keras.Function(x, dense(x), name="f")
    data = np.random.RandomState(0).rand(4, 3).astype("float32")
    kx = keras_oracle.Input((3,))
    kdense = keras_oracle.layers.Dense(2)
    kf = keras_oracle.Function(kx, kdense(kx), name="f")
    kdense.set_weights(dense.get_weights())
    np.testing.assert_allclose(f(data).detach().numpy(), np.asarray(kf(data).detach()), rtol=1e-6)
    assert [op.name for op in f.operations] == ["input_layer", "dense"]
    assert f.inputs[0] is x and len(f.outputs) == 1 and repr(f) == "<Function name=f>"


def test_legacy_serialization_matches_keras_format(keras_oracle):
    ours = keras.utils.legacy.serialize_keras_object(keras.layers.Dense(2, name="d"))
    theirs = keras_oracle.utils.legacy.serialize_keras_object(keras_oracle.layers.Dense(2, name="d"))
    assert ours.keys() == theirs.keys() and ours["class_name"] == theirs["class_name"] == "Dense"
    assert ours["config"]["units"] == theirs["config"]["units"] == 2
    rebuilt = keras.utils.legacy.deserialize_keras_object(
        theirs, module_objects={"Dense": keras.layers.Dense})
    assert isinstance(rebuilt, keras.layers.Dense) and rebuilt.units == 2
    assert keras.utils.legacy.serialize_keras_object(None) is None
    with pytest.raises(ValueError, match="get_config"):
        keras.utils.legacy.serialize_keras_object(object())
    with pytest.raises(ValueError, match="Unknown"):
        keras.utils.legacy.deserialize_keras_object({"class_name": "Nope", "config": {}})


def test_remat_keeps_values_and_gradients():
    w = torch.randn(4, 4, requires_grad=True)
    x = torch.randn(3, 4)

    def block(t):
        return torch.relu(t @ w) @ w

    block(x).sum().backward()
    expected = w.grad.clone()
    w.grad = None
    out = keras.remat(block)(x)
    out.sum().backward()
    assert torch.allclose(out, block(x)) and torch.allclose(w.grad, expected)

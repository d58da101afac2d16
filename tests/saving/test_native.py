"""keraslike's single-file safetensors format: round trips, weights files, custom objects, resume."""

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import keraslike as keras
from keraslike import layers
from tests.saving._helpers import SEED_MODELS, assert_same_outputs, predict, summary_lines


@pytest.mark.parametrize("name", sorted(SEED_MODELS))
def test_seed_model_round_trip(name, tmp_path):
    builder, make_inputs = SEED_MODELS[name]
    try:
        model = builder(keras)
    except Exception as e:  # a layer another engineer has not finished yet
        pytest.skip(f"seed model {name} does not build yet: {type(e).__name__}: {e}")
    x = make_inputs(np.random.default_rng(0))
    path = tmp_path / f"{name}.safetensors"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is type(model)
    assert_same_outputs(predict(restored, x), predict(model, x))
    assert summary_lines(restored) == summary_lines(model)
    assert [w.shape for w in restored.get_weights()] == [w.shape for w in model.get_weights()]


def test_file_is_plain_safetensors_keyed_like_state_dict(tmp_path):
    model = SEED_MODELS["mnist_model"][0](keras)
    path = tmp_path / "m.safetensors"
    model.save(path)
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
        keys = set(f.keys())
    assert keys == set(model.state_dict())
    assert metadata["format"] == "keraslike" and metadata["format_version"] == "1"
    config = json.loads(metadata["model_config"])
    assert config["class_name"] == "Functional"
    assert config["config"] == json.loads(json.dumps(model.get_config()))
    # The weights load into the model the PyTorch way too.
    keras.backend.clear_session()
    fresh = SEED_MODELS["mnist_model"][0](keras)
    fresh.load_state_dict(load_file(str(path)))
    x = np.random.rand(2, 784).astype("float32")
    assert_same_outputs(predict(fresh, x), predict(model, x))


def test_path_without_extension_uses_native_format(tmp_path):
    model = SEED_MODELS["mnist_model"][0](keras)
    path = tmp_path / "path_to_my_model"
    model.save(str(path))
    assert path.is_file()
    with safe_open(str(path), "pt") as f:
        assert f.metadata()["format"] == "keraslike"
    restored = keras.models.load_model(str(path))
    x = np.random.rand(2, 784).astype("float32")
    assert_same_outputs(predict(restored, x), predict(model, x))


def test_shared_layers_and_nested_models_stored_once(tmp_path):
    shared = layers.Dense(4, name="shared")
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, layers.Dense(4, name="inner_dense")(inner_in), name="inner")
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="seq_dense")], name="seq")
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    x = layers.add([shared(a), shared(b)])
    x = inner(shared(x))
    outputs = {"out": seq(inner(x)), "aux": layers.Dense(1, name="aux")(x)}
    model = keras.Model([a, b], outputs, name="nested")
    path = tmp_path / "nested.safetensors"
    model.save(path)
    with safe_open(str(path), "pt") as f:
        keys = list(f.keys())
    assert sum(k.startswith("shared.") for k in keys) == 2  # kernel and bias, once
    restored = keras.models.load_model(path)
    x_in = [np.random.rand(2, 4).astype("float32"), np.random.rand(2, 4).astype("float32")]
    assert_same_outputs(predict(restored, x_in), predict(model, x_in))
    # Sharing survives: one layer object, called three times.
    layer = restored.get_layer("shared")
    assert len(layer._inbound_nodes) == 3
    assert restored.get_layer("inner") is not None
    assert json.loads(json.dumps(restored.get_config())) == json.loads(json.dumps(model.get_config()))


@keras.saving.register_keras_serializable(package="saving_tests")
class ScaledDense(keras.layers.Layer):
    """A custom layer with its own weights and config, registered by name."""

    def __init__(self, units, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="ones", name="b")

    def call(self, inputs):
        return self.scale * (inputs @ self.w + self.b)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "scale": self.scale}


class Unregistered(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 3.0


def _custom_model():
    inputs = keras.Input((5,))
    x = ScaledDense(3, scale=0.5)(inputs)
    outputs = Unregistered()(x)
    return keras.Model(inputs, outputs)


def test_custom_registered_layer_and_custom_objects(tmp_path):
    model = _custom_model()
    path = tmp_path / "custom.safetensors"
    model.save(path)
    with safe_open(str(path), "pt") as f:
        config = json.loads(f.metadata()["model_config"])
    classes = [layer["class_name"] for layer in config["config"]["layers"]]
    assert classes == ["InputLayer", "ScaledDense", "Unregistered"]
    assert config["config"]["layers"][1]["registered_name"] == "saving_tests>ScaledDense"
    with pytest.raises(TypeError, match="Unregistered") as info:
        keras.models.load_model(path)
    assert isinstance(info.value, ValueError)
    assert "custom_objects" in str(info.value)
    restored = keras.models.load_model(path, custom_objects={"Unregistered": Unregistered})
    x = np.random.rand(2, 5).astype("float32")
    assert_same_outputs(predict(restored, x), predict(model, x))
    with keras.saving.custom_object_scope({"Unregistered": Unregistered}):
        restored = keras.models.load_model(path)
    assert isinstance(restored.layers[1], ScaledDense) and restored.layers[1].scale == 0.5


def test_op_nodes_round_trip(tmp_path):
    inputs = keras.Input((6,))
    x = layers.Dense(4)(inputs)
    y = (x + 1.0) * x[:, :1]
    z = torch.tanh(y) - torch.nn.functional.relu(x)
    model = keras.Model(inputs, [z, x[..., 1:3]])
    path = tmp_path / "ops.safetensors"
    model.save(path)
    restored = keras.models.load_model(path)
    xs = np.random.rand(3, 6).astype("float32")
    assert_same_outputs(predict(restored, xs), predict(model, xs))


def _times_two(x):
    return x * 2.0


def test_lambda_refused_in_safe_mode(tmp_path):
    keras.saving.register_keras_serializable(package="saving_tests")(_times_two)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(_times_two)(layers.Dense(2)(inputs)))
    path = tmp_path / "lambda.safetensors"
    model.save(path)
    with pytest.raises(ValueError, match="safe mode"):
        keras.models.load_model(path)
    restored = keras.models.load_model(path, safe_mode=False)
    x = np.random.rand(2, 3).astype("float32")
    assert_same_outputs(predict(restored, x), predict(model, x))


def test_anonymous_lambda_never_deserialized(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(lambda t: t + 1.0)(inputs))
    path = tmp_path / "anon.safetensors"
    model.save(path)
    with pytest.raises(ValueError, match="lambda"):
        keras.models.load_model(path, safe_mode=False)


def test_weights_safetensors_round_trip(tmp_path):
    model = SEED_MODELS["toy_resnet"][0](keras)
    path = tmp_path / "w.weights.safetensors"
    model.save_weights(path)
    other = SEED_MODELS["toy_resnet"][0](keras)  # other layer names: weights load by position
    assert other.layers[1].name != model.layers[1].name
    other.load_weights(path)
    x = np.random.rand(2, 32, 32, 3).astype("float32")
    assert_same_outputs(predict(other, x), predict(model, x))
    # A plain safetensors file of the state dict loads too (by name: save_file reorders keys).
    plain = tmp_path / "plain.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(plain))
    keras.backend.clear_session()
    third = SEED_MODELS["toy_resnet"][0](keras)
    third.load_weights(plain)
    assert_same_outputs(predict(third, x), predict(model, x))


def test_load_weights_reports_missing_unexpected_and_mis_shaped(tmp_path):
    def build(units):
        inputs = keras.Input((4,))
        x = layers.Dense(units, name="d1")(inputs)
        return keras.Model(inputs, layers.Dense(2, name="d2")(x))

    path = tmp_path / "w.weights.safetensors"
    build(3).save_weights(path)
    with pytest.raises(ValueError) as info:
        build(5).load_weights(path)
    message = str(info.value)
    assert "d1.weight" in message and "(3, 4)" in message and "(5, 4)" in message
    tensors = load_file(str(path))
    tensors["extra.weight"] = torch.zeros(1)
    del tensors["d2.bias"]
    save_file(tensors, str(tmp_path / "edited.safetensors"))
    with pytest.raises(ValueError) as info:
        build(3).load_weights(tmp_path / "edited.safetensors")
    assert "missing from the file: ['d2.bias']" in str(info.value)
    assert "extra.weight" in str(info.value)
    target = build(3)
    with pytest.warns(UserWarning, match="skipped"):
        target.load_weights(tmp_path / "edited.safetensors", skip_mismatch=True)
    kernel = target.get_layer("d1").get_weights()[0]
    np.testing.assert_array_equal(kernel, tensors["d1.weight"].T.numpy())


def test_save_weights_needs_a_weights_extension(tmp_path):
    model = SEED_MODELS["mnist_model"][0](keras)
    with pytest.raises(ValueError, match=".weights.h5"):
        model.save_weights(tmp_path / "w.safetensors")


def test_compiled_model_resumes_training_exactly(tmp_path):
    if not hasattr(keras.Model, "compile"):
        pytest.skip("Model.compile is not implemented yet")
    rng = np.random.default_rng(0)
    x = rng.random((64, 784)).astype("float32")
    y = rng.integers(0, 10, 64)
    model = SEED_MODELS["mnist_model"][0](keras)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "compiled.safetensors"
    model.save(path)
    restored = keras.models.load_model(path)
    assert restored.get_compile_config() == model.get_compile_config()
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 4
    for name, value in model.optimizer.get_slot_state().items():
        torch.testing.assert_close(restored.optimizer.get_slot_state()[name], value, rtol=0, atol=0)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    restored.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    uncompiled = keras.models.load_model(path, compile=False)
    assert not uncompiled.compiled


def test_include_optimizer_false_and_uncompiled(tmp_path):
    model = SEED_MODELS["mnist_model"][0](keras)
    path = tmp_path / "plain.safetensors"
    model.save(path)
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    assert "compile_config" not in metadata and "optimizer_config" not in metadata
    assert not keras.models.load_model(path).compiled


@pytest.mark.parametrize("extension", ["safetensors", "keras"])
def test_layer_shared_between_nested_and_outer_model(extension, tmp_path):
    shared = layers.Dense(4, name="shared")
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, shared(inner_in), name="inner")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2, name="head")(shared(inner(inputs))), name="outer")
    path = tmp_path / f"m.{extension}"
    model.save(path)
    restored = keras.models.load_model(path)
    assert restored.get_layer("inner").layers[1] is restored.get_layer("shared")
    x = np.random.rand(3, 4).astype("float32")
    assert_same_outputs(predict(restored, x), predict(model, x))
    if extension == "safetensors":
        with safe_open(str(path), "pt") as f:
            # Stored once, under its first state_dict key.
            stored = sorted(k for k in f.keys() if "shared" in k)
        assert stored == ["inner.shared.bias", "inner.shared.weight"]


def test_load_weights_from_keras_archive(tmp_path):
    model = SEED_MODELS["mnist_model"][0](keras)
    model.save(tmp_path / "m.keras")
    other = SEED_MODELS["mnist_model"][0](keras)
    other.load_weights(tmp_path / "m.keras")
    x = np.random.rand(2, 784).astype("float32")
    assert_same_outputs(predict(other, x), predict(model, x))


@pytest.mark.cuda
def test_cuda_model_round_trip(tmp_path):
    model = SEED_MODELS["mnist_model"][0](keras).to("cuda")
    path = tmp_path / "cuda.safetensors"
    model.save(path)
    restored = keras.models.load_model(path).to("cuda")
    x = torch.rand(2, 784, device="cuda")
    with torch.no_grad():
        assert torch.equal(restored(x), model(x))


def test_custom_layer_without_name_in_its_config_round_trips(tmp_path):
    """The guide's CustomDense: get_config() returns only `units`, so the layer is renamed on load."""
    import numpy as np
    import torch

    import keraslike as keras

    class CustomDense(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

        def call(self, inputs):
            return torch.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    inputs = keras.Input((4,))
    model = keras.Model(inputs, CustomDense(10)(inputs))
    model.compile("adam", "mse")
    x = np.random.rand(8, 4).astype("float32")
    model.fit(x, np.zeros((8, 10), "float32"), epochs=1, verbose=0)
    path = tmp_path / "custom.safetensors"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"CustomDense": CustomDense})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)

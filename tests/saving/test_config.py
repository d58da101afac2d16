"""Model configs equal Keras 3's for the same graph; from_config, JSON, (de)serialization, cloning."""

import json

import numpy as np
import pytest

import keraslike
from keraslike import layers
from tests.saving._helpers import SEED_MODELS, assert_same_outputs, predict


def _json(value):
    return json.loads(json.dumps(value))


def _many_layers(lib):
    L = lib.layers
    inputs = lib.Input((5, 8))
    outputs = [
        L.MultiHeadAttention(2, 4)(inputs, inputs),
        L.LSTM(3, return_sequences=True)(inputs),
        L.GRU(3, return_sequences=True)(inputs),
        L.Bidirectional(L.LSTM(3, return_sequences=True))(inputs),
        L.TimeDistributed(L.Dense(3))(inputs),
        L.BatchNormalization()(inputs),
        L.LayerNormalization()(inputs),
        L.Attention(use_scale=True)([inputs, inputs]),
        L.Dropout(0.2, name="drop")(L.SeparableConv1D(3, 2)(inputs)),
    ]
    return lib.Model(inputs, outputs, name="many")


def _nested_sequential_shared(lib):
    L = lib.layers
    shared = L.Dense(4, name="shared")
    seq = lib.Sequential([lib.Input((4,)), L.Dense(3, name="seq_dense")], name="seq")
    a = lib.Input((4,), name="a")
    b = lib.Input((4,), name="b")
    x = L.concatenate([shared(a), shared(b)])
    x = shared(L.Dense(4)(x))
    outputs = {"out": seq(x), "aux": L.Dense(1, name="aux")(x)}
    return lib.Model({"a": a, "b": b}, outputs, name="shared_nested")


GRAPHS = {name: entry[0] for name, entry in SEED_MODELS.items()}
GRAPHS["many_layers"] = _many_layers
GRAPHS["nested_sequential_shared"] = _nested_sequential_shared


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_config_equals_keras(name, keras_oracle):
    builder = GRAPHS[name]
    theirs = builder(keras_oracle)
    keraslike.backend.clear_session()
    try:
        ours = builder(keraslike)
    except Exception as e:
        pytest.skip(f"{name} does not build yet: {type(e).__name__}: {e}")
    assert _json(ours.get_config()) == _json(theirs.get_config())
    assert json.loads(ours.to_json()) == json.loads(theirs.to_json())


@pytest.mark.parametrize(
    "name", ["encoder_decoder", "nested_sequential_shared", "toy_resnet", "many_layers"]
)
def test_keras_config_builds_the_same_model(name, keras_oracle):
    theirs = GRAPHS[name](keras_oracle)
    config = _json(theirs.get_config())
    ours = keraslike.Model.from_config(config)
    ours.set_weights(theirs.get_weights())
    assert _json(ours.get_config()) == config
    rng = np.random.default_rng(0)
    x = {
        "encoder_decoder": lambda: rng.random((2, 28, 28, 1)).astype("float32"),
        "toy_resnet": lambda: rng.random((2, 32, 32, 3)).astype("float32"),
        "many_layers": lambda: rng.random((2, 5, 8)).astype("float32"),
        "nested_sequential_shared": lambda: {
            "a": rng.random((2, 4)).astype("float32"),
            "b": rng.random((2, 4)).astype("float32"),
        },
    }[name]()
    assert_same_outputs(predict(ours, x), predict(theirs, x), atol=1e-5)


def test_from_config_round_trip_and_json():
    model = _nested_sequential_shared(keraslike)
    config = model.get_config()
    rebuilt = keraslike.Model.from_config(config)
    assert _json(rebuilt.get_config()) == _json(config)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    again = keraslike.models.model_from_json(model.to_json())
    assert _json(again.get_config()) == _json(config)
    rebuilt.set_weights(model.get_weights())
    x = {"a": np.ones((2, 4), "float32"), "b": np.zeros((2, 4), "float32")}
    assert_same_outputs(predict(rebuilt, x), predict(model, x))


def test_sequential_config_schema():
    model = keraslike.Sequential([layers.Dense(3, name="d")], name="s")
    config = model.get_config()
    assert set(config) == {"name", "trainable", "dtype", "layers"}  # not built: no input shape
    model.build((None, 5))
    config = model.get_config()
    assert config["build_input_shape"] == (None, 5)
    assert [c["class_name"] for c in config["layers"]] == ["InputLayer", "Dense"]
    rebuilt = keraslike.Sequential.from_config(config)
    assert rebuilt.built and rebuilt.layers[0].name == "d"
    assert _json(rebuilt.get_config()) == _json(config)


def test_serialize_and_deserialize_keras_object():
    saving = keraslike.saving
    layer = layers.Dense(3, activation="relu", name="dd")
    config = saving.serialize_keras_object(layer)
    assert config["module"] == "keras.layers" and config["class_name"] == "Dense"
    assert config["registered_name"] is None
    clone = saving.deserialize_keras_object(config)
    assert isinstance(clone, layers.Dense) and clone.get_config() == layer.get_config()
    adam = saving.serialize_keras_object(keraslike.optimizers.Adam(0.01))
    optimizer = saving.deserialize_keras_object(adam)
    assert isinstance(optimizer, keraslike.optimizers.Adam)
    marker = {"class_name": "__slice__", "config": {"start": 1, "stop": None, "step": 2}}
    assert saving.deserialize_keras_object(marker) == slice(1, None, 2)
    with pytest.raises(TypeError, match="NoSuchLayer") as info:
        saving.deserialize_keras_object(
            {
                "module": "my.module",
                "class_name": "NoSuchLayer",
                "config": {},
                "registered_name": "pkg>NoSuchLayer",
            }
        )
    assert isinstance(info.value, ValueError)
    assert "register_keras_serializable" in str(info.value)


def test_registered_objects_are_found_by_name():
    saving = keraslike.saving

    @saving.register_keras_serializable(package="config_tests", name="Twice")
    class Twice(layers.Layer):
        def call(self, x):
            return 2 * x

    assert saving.get_registered_object("config_tests>Twice") is Twice
    assert saving.get_registered_name(Twice) == "config_tests>Twice"
    config = saving.serialize_keras_object(Twice(name="t"))
    assert config["registered_name"] == "config_tests>Twice"
    assert isinstance(saving.deserialize_keras_object(config), Twice)


def test_clone_model_functional_sequential_nested():
    model = _nested_sequential_shared(keraslike)
    clone = keraslike.models.clone_model(model)
    assert _json(clone.get_config()) == _json(model.get_config())
    assert clone.get_layer("shared") is not model.get_layer("shared")
    assert len(clone.get_layer("shared")._inbound_nodes) == 3
    clone.set_weights(model.get_weights())
    x = {"a": np.ones((2, 4), "float32"), "b": np.full((2, 4), 0.5, "float32")}
    assert_same_outputs(predict(clone, x), predict(model, x))

    seq = keraslike.Sequential([keraslike.Input((6,)), layers.Dense(2, name="d")], name="s")
    seq_clone = keraslike.models.clone_model(seq)
    assert isinstance(seq_clone, keraslike.Sequential)
    assert _json(seq_clone.get_config()) == _json(seq.get_config())

    renamed = keraslike.models.clone_model(
        seq, clone_function=lambda layer: layers.Dense(layer.units, name=layer.name + "_new")
    )
    assert [layer.name for layer in renamed.layers] == ["d_new"]
    new_input = keraslike.Input((6,), name="fresh")
    on_input = keraslike.models.clone_model(model.get_layer("seq"), input_tensors=new_input)
    assert on_input.layers[0].name == "seq_dense"


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_clone_model_keeps_compile_settings_as_keras(kind):
    keras = pytest.importorskip("keras")

    def build(lib):
        if kind == "sequential":
            model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
        else:
            inputs = lib.Input((3,))
            model = lib.Model(inputs, lib.layers.Dense(2)(inputs))
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
        return model

    for lib in (keras, keraslike):
        model = build(lib)
        clone = lib.models.clone_model(model)
        assert clone.compiled, lib.__name__
        assert clone.optimizer is not model.optimizer
        assert float(clone.optimizer.learning_rate) == pytest.approx(0.01)
        x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
        logs = clone.evaluate(x, y, verbose=0, return_dict=True)
        assert sorted(logs) == ["loss", "mae"], lib.__name__

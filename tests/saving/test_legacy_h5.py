"""Legacy HDF5 files (tf.keras / Keras 2 `model.save("m.h5")`, `save_weights("w.h5")`)."""

import json

import numpy as np
import pytest

import keraslike
from tests.saving._helpers import SEED_MODELS, assert_same_outputs, predict

h5py = pytest.importorskip("h5py")


@pytest.mark.parametrize("name", ["mnist_model", "encoder_decoder", "toy_resnet"])
def test_keras_legacy_h5_model(name, keras_oracle, tmp_path):
    builder, make_inputs = SEED_MODELS[name]
    theirs = builder(keras_oracle)
    theirs.compile(optimizer="adam", loss="mse")
    path = tmp_path / f"{name}.h5"
    theirs.save(path)  # Keras 3 still writes the legacy format for `.h5`
    ours = keraslike.models.load_model(path)
    assert ours.compiled
    x = make_inputs(np.random.default_rng(0))
    assert_same_outputs(predict(ours, x), predict(theirs, x), atol=1e-5)
    keraslike.backend.clear_session()
    fresh = builder(keraslike)
    fresh.load_weights(path)
    assert_same_outputs(predict(fresh, x), predict(theirs, x), atol=1e-5)


def _keras2_dense(name, units, activation):
    return {
        "class_name": "Dense",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "units": units,
            "activation": activation,
            "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        },
    }


def _write_keras2_file(path, config, weights, training_config=None):
    """Writes a file the way tf.keras 2.x `model.save("m.h5")` lays it out."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config)
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode() for name in weights]
        for layer_name, arrays in weights.items():
            layer_group = group.create_group(layer_name)
            names = [f"{layer_name}/{w}:0" for w in ("kernel", "bias")][: len(arrays)]
            layer_group.attrs["weight_names"] = [n.encode() for n in names]
            for weight_name, array in zip(names, arrays):
                layer_group.create_dataset(weight_name, data=array)


def test_tf_keras_2_functional_file(tmp_path):
    rng = np.random.default_rng(0)
    w1, b1 = rng.random((4, 3)).astype("float32"), rng.random(3).astype("float32")
    w2, b2 = rng.random((3, 2)).astype("float32"), rng.random(2).astype("float32")
    dense_1 = _keras2_dense("dense", 3, "relu")
    dense_1.update(name="dense", inbound_nodes=[[["input_1", 0, 0, {}]]])
    dense_2 = _keras2_dense("dense_1", 2, "linear")
    dense_2.update(name="dense_1", inbound_nodes=[[["dense", 0, 0, {}]]])
    config = {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {
                        "batch_input_shape": [None, 4],
                        "dtype": "float32",
                        "sparse": False,
                        "ragged": False,
                        "name": "input_1",
                    },
                    "name": "input_1",
                    "inbound_nodes": [],
                },
                dense_1,
                dense_2,
            ],
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["dense_1", 0, 0]],
        },
    }
    path = tmp_path / "tf2.h5"
    training = {
        "loss": "mse",
        "metrics": None,
        "optimizer_config": {"class_name": "SGD", "config": {"learning_rate": 0.1}},
    }
    _write_keras2_file(path, config, {"input_1": [], "dense": [w1, b1], "dense_1": [w2, b2]}, training)
    model = keraslike.models.load_model(path)
    assert model.compiled and type(model.optimizer).__name__ == "SGD"
    x = rng.random((5, 4)).astype("float32")
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(predict(model, x)[0], expected, rtol=1e-5, atol=1e-6)


def test_tf_keras_2_sequential_and_weights_by_order(tmp_path):
    rng = np.random.default_rng(1)
    w1, b1 = rng.random((4, 3)).astype("float32"), rng.random(3).astype("float32")
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"batch_input_shape": [None, 4], "name": "dense_input"},
                },
                _keras2_dense("dense", 3, "sigmoid"),
            ],
        },
    }
    path = tmp_path / "seq.h5"
    _write_keras2_file(path, config, {"dense": [w1, b1]})
    model = keraslike.models.load_model(path)
    x = rng.random((2, 4)).astype("float32")
    expected = 1 / (1 + np.exp(-(x @ w1 + b1)))
    np.testing.assert_allclose(predict(model, x)[0], expected, rtol=1e-5, atol=1e-6)
    # Weights-only legacy loading matches layers with weights in order when names differ.
    dense = keraslike.layers.Dense(3, activation="sigmoid")
    other = keraslike.Sequential([keraslike.Input((4,)), dense])
    other.load_weights(path)
    np.testing.assert_allclose(predict(other, x)[0], expected, rtol=1e-5, atol=1e-6)
    wrong = keraslike.Sequential([keraslike.Input((4,)), keraslike.layers.Dense(5)])
    with pytest.raises(ValueError, match="seq.h5"):
        wrong.load_weights(path)


def test_huge_sizes_in_a_legacy_config_are_refused_before_allocating(tmp_path):
    """A 10 KB legacy file whose config says `Dense(units=10**12)` (16 TB): the model is built
    on `meta` and its shapes checked against the file's datasets before any memory is given."""
    dense = _keras2_dense("dense", 10**12, "linear")
    config = {
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                   "name": "input_1"}},
            dense,
        ]},
    }
    path = tmp_path / "evil.h5"
    _write_keras2_file(path, config, {"dense": [np.ones((4, 3), "float32"), np.ones(3, "float32")]})
    with pytest.raises(ValueError, match=r"evil\.h5.*dense: the config makes weights of shapes "
                                         r"\[\(4, 1000000000000\), \(1000000000000,\)\], the file holds \[\(4, 3\), \(3,\)\]"):
        keraslike.models.load_model(path)


def test_legacy_weights_are_read_one_weight_at_a_time(tmp_path, monkeypatch):
    """The built-in `set_weights` gets lazy arrays: each dataset is read as its weight is set,
    so loading holds at most one weight's values besides the model."""
    from keraslike.saving import legacy_h5

    rng = np.random.default_rng(1)
    w, b = rng.random((4, 3)).astype("float32"), rng.random(3).astype("float32")
    dense = _keras2_dense("dense", 3, "linear")
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                               "name": "input_1"}}, dense]}}
    path = tmp_path / "m.h5"
    _write_keras2_file(path, config, {"dense": [w, b]})
    reads = []
    real = legacy_h5._LazyArray.__array__
    monkeypatch.setattr(legacy_h5._LazyArray, "__array__",
                        lambda self, *a, **k: reads.append(self.shape) or real(self, *a, **k))
    model = keraslike.models.load_model(path)
    assert reads == [(4, 3), (3,)]
    np.testing.assert_array_equal(model.layers[-1].get_weights()[0], w)
    np.testing.assert_array_equal(model.layers[-1].get_weights()[1], b)

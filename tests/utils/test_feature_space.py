"""keras.utils.FeatureSpace.

Keras 3's FeatureSpace needs TensorFlow on the torch backend (tf.data in `adapt`, tf tensors in
`__call__`, and its StringLookup/IntegerLookup/Hashing layers), which is not installed: outputs
are checked against hand-computed expectations built from the documented algorithm (sorted
features then sorted crosses; multi-hot of each discrete id) and keraslike's own preprocessing
layers (each checked against Keras elsewhere). Configs are compared with Keras's where Keras can
construct the FeatureSpace without TensorFlow (float features).
"""

import numpy as np
import pytest
import torch

import keraslike as keras
from tests.layer_harness import assert_configs_equal

FS = keras.utils.FeatureSpace
RAW = {"f": [0.0, 0.1, 0.2, 0.3], "s": ["a", "b", "a", "c"], "i": [0, 1, 2, 3]}


def _one_hot(ids, depth):
    out = np.zeros((len(ids), depth), dtype="float32")
    out[np.arange(len(ids)), np.asarray(ids).reshape(-1)] = 1.0
    return out


def _example(output_mode="concat"):
    fs = FS({"f": "float_normalized", "s": "string_categorical", "i": "integer_categorical"},
            crosses=[("s", "i")], crossing_dim=8, output_mode=output_mode)
    fs.adapt(RAW)
    return fs


def test_concat_output_equals_the_hand_computed_encoding():
    fs = _example()
    out = fs(RAW)
    f = (np.array(RAW["f"]) - 0.15) / np.sqrt(np.var(RAW["f"]))
    # Vocabularies by descending count, ties by descending value, after the OOV index 0.
    i_ids = np.array([4, 3, 2, 1])  # vocabulary [oov, 3, 2, 1, 0]
    s_ids = np.array([1, 3, 1, 2])  # vocabulary [oov, "a", "c", "b"]
    assert fs.preprocessors["i"].get_vocabulary() == [-1, 3, 2, 1, 0]
    assert fs.preprocessors["s"].get_vocabulary() == ["[UNK]", "a", "c", "b"]
    crossed = keras.layers.HashedCrossing(num_bins=8)(
        (torch.tensor(s_ids[:, None]), torch.tensor(i_ids[:, None])))
    expected = np.concatenate([f[:, None], _one_hot(i_ids, 5), _one_hot(s_ids, 4),
                               _one_hot(crossed.numpy(), 8)], axis=1)
    assert out.dtype == torch.float32 and out.shape == (4, 18)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)
    # A single sample of scalars is encoded unbatched; unknown values go to the OOV index.
    single = fs({"f": 0.3, "s": "zzz", "i": 3})
    assert single.shape == (18,)
    np.testing.assert_allclose(single[6:10].numpy(), [1, 0, 0, 0])


def test_dict_output_and_every_feature_type():
    data = {
        "plain": np.array([1.5, -2.0, 0.5]),
        "rescaled": torch.tensor([1.0, 2.0, 3.0]),
        "bins": [0.0, 1.0, 2.0],
        "bounds": [0.2, 1.7, 5.0],
        "ihash": [10, 20, 30],
        "shash": ["x", "y", "x"],
        "ints": [7, 7, 8],
    }
    fs = FS(
        {
            "plain": "float",
            "rescaled": FS.float_rescaled(scale=2.0, offset=1.0),
            "bins": FS.float_discretized(num_bins=2),
            "bounds": FS.float_discretized(num_bins=3, bin_boundaries=[1.0, 2.0]),
            "ihash": FS.integer_hashed(num_bins=4),
            "shash": "string_hashed",
            "ints": FS.integer_categorical(output_mode="int"),
        },
        crosses=[FS.cross(("ihash", "shash"), crossing_dim=5, output_mode="int")],
        hashing_dim=6,
        output_mode="dict",
    )
    fs.adapt(data)
    out = fs(data)
    assert list(out) == ["bins", "bounds", "ihash", "ints", "plain", "rescaled", "shash",
                         "ihash_X_shash"]
    np.testing.assert_allclose(out["plain"].numpy(), [[1.5], [-2.0], [0.5]])
    assert out["plain"].dtype == torch.float32
    np.testing.assert_allclose(out["rescaled"].numpy(), [[3.0], [5.0], [7.0]])
    bins = fs.preprocessors["bins"](np.array([[0.0], [1.0], [2.0]])).numpy()
    np.testing.assert_array_equal(out["bins"].numpy(), _one_hot(bins, 2))
    np.testing.assert_array_equal(out["bounds"].numpy(), _one_hot([0, 1, 2], 3))
    ihash = keras.layers.Hashing(num_bins=4)(np.array([[10], [20], [30]]))
    shash = keras.layers.Hashing(num_bins=6)(np.array([["x"], ["y"], ["x"]]))
    np.testing.assert_array_equal(out["ihash"].numpy(), _one_hot(ihash.numpy(), 4))
    np.testing.assert_array_equal(out["shash"].numpy(), _one_hot(shash.numpy(), 6))
    np.testing.assert_array_equal(out["ints"].numpy(), [[1], [1], [2]])  # int output: ids
    crossed = keras.layers.HashedCrossing(num_bins=5)((ihash, shash))
    np.testing.assert_array_equal(out["ihash_X_shash"].numpy(), crossed.numpy())


def _batches(raw, size):
    for start in range(0, len(raw["f"]), size):
        yield {k: v[start:start + size] for k, v in raw.items()}


def test_adapt_on_dataloaders_generators_and_labelled_batches():
    reference = _example()(RAW)
    loader = torch.utils.data.DataLoader(
        [{"f": f, "s": s, "i": i} for f, s, i in zip(RAW["f"], RAW["s"], RAW["i"])], batch_size=3)
    for dataset in (loader, _batches(RAW, 2), [(RAW, np.zeros(4))]):
        fs = FS({"f": "float_normalized", "s": "string_categorical", "i": "integer_categorical"},
                crosses=[("s", "i")], crossing_dim=8)
        fs.adapt(dataset)
        np.testing.assert_allclose(fs(RAW).numpy(), reference.numpy(), atol=1e-6)


def test_encoded_features_train_a_model_and_saving_round_trips(tmp_path):
    fs = _example()
    encoded = fs.get_encoded_features()
    assert tuple(encoded.shape) == (None, 18)
    model = keras.Model(encoded, keras.layers.Dense(1)(encoded))
    model.compile("sgd", "mse")
    model.fit(fs(RAW), np.arange(4.0), epochs=1, verbose=0)
    fs.save(tmp_path / "fs.safetensors")
    again = keras.saving.load_model(tmp_path / "fs.safetensors")
    assert isinstance(again, FS)
    new = {"f": [0.05, 1.0], "s": ["c", "q"], "i": [2, 9]}
    np.testing.assert_array_equal(again(new).numpy(), fs(new).numpy())
    assert again.preprocessors["s"].get_vocabulary() == ["[UNK]", "a", "c", "b"]
    fs.save(tmp_path / "fs.keras")  # Keras's archive format too, written as keras.utils
    from_archive = keras.saving.load_model(tmp_path / "fs.keras")
    np.testing.assert_array_equal(from_archive(new).numpy(), fs(new).numpy())
    clone = FS.from_config(fs.get_config())
    clone.build_from_config(fs.get_build_config())
    np.testing.assert_array_equal(clone(new)[:, 1:].numpy(), fs(new)[:, 1:].numpy())
    dict_fs = _example("dict")
    assert {k: tuple(v.shape) for k, v in dict_fs.get_encoded_features().items()} == {
        "f": (None, 1), "i": (None, 5), "s": (None, 4), "s_X_i": (None, 8)}


def test_config_equals_keras_for_float_features():
    keras3 = pytest.importorskip("keras")
    spec = {"a": "float", "b": "float_normalized", "c": "float_rescaled", "d": "float_discretized"}
    theirs = keras3.utils.FeatureSpace(spec, output_mode="dict", num_discretization_bins=4)
    ours = FS(spec, output_mode="dict", num_discretization_bins=4)
    assert_configs_equal(ours.get_config(), theirs.get_config())
    from_keras = FS.from_config(theirs.get_config())
    assert_configs_equal(from_keras.get_config(), theirs.get_config())
    assert type(from_keras.preprocessors["a"]).__name__ == "TFDIdentity"


def test_bad_input():
    with pytest.raises(ValueError, match="Invalid feature type: 'floaty'"):
        FS({"x": "floaty"})
    with pytest.raises(ValueError, match="output_mode=stack"):
        FS({"x": "float"}, output_mode="stack")
    with pytest.raises(ValueError, match="unknown features.*'y'"):
        FS({"x": "float"}, crosses=[("x", "y")])
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FS({})
    fs = FS({"x": "float_normalized", "s": "string_categorical"})
    with pytest.raises(ValueError, match="adapt"):
        fs({"x": [1.0], "s": ["a"]})
    with pytest.raises(ValueError, match="lacks feature 's'"):
        fs.adapt({"x": [1.0, 2.0]})
    fs.adapt({"x": [1.0, 2.0], "s": ["a", "b"]})
    with pytest.raises(ValueError, match="only be called with a dict"):
        fs([1.0])
    with pytest.raises(ValueError, match=r"lacks the features \['s'\]"):
        fs({"x": [1.0]})
    with pytest.raises(ValueError, match="'x' is declared 'float32' but received strings"):
        fs({"x": ["1.0"], "s": ["a"]})
    with pytest.raises(ValueError, match="Cannot concatenate.*'i'"):
        FS({"i": FS.integer_categorical(output_mode="int")}).adapt({"i": [1, 2]})
    with pytest.raises(ValueError, match="can only be called on a dict"):
        FS({"x": "float_normalized"}).adapt(3)
    with pytest.raises(NotImplementedError, match="get_encoded_features"):
        fs.get_inputs()

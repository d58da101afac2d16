"""Text and categorical preprocessing layers.

Keras 3 runs `StringLookup`, `IntegerLookup`, `TextVectorization`, `Hashing` and `HashedCrossing`
only with TensorFlow installed (not in the test environment), so their expected values are
Keras's own: the outputs in Keras 3.15's docstrings and unit tests
(`keras/src/layers/preprocessing/*_test.py`), quoted below. `CategoryEncoding` and
`Discretization` run on Keras's torch backend and are compared live.
"""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import layers
from keraslike.layers.preprocessing._hash_functions import fingerprint64

keras = pytest.importorskip("keras")

NAMES = [["omar"], ["stringer"], ["marlo"], ["wire"], ["skywalker"]]


# ---------------------------------------------------------------------- hashing


def test_fingerprint64_matches_farmhash():
    # FarmHash Fingerprint64 values (pyfarmhash 0.5.1), one per length branch of the algorithm.
    assert fingerprint64(b"") == 0x9AE16A3B2F90404F
    assert fingerprint64(b"a" * 17) == 17591810127221272131
    assert fingerprint64(b"hello world, this is thirty-three") == 8319537862449868966
    assert fingerprint64(bytes(range(70))) == 16148519163011131567
    assert fingerprint64("é漢字".encode() * 10) == 3881175588384370283


@pytest.mark.parametrize(
    "kwargs,inputs,expected",
    [  # keras/src/layers/preprocessing/hashing_test.py
        ({"num_bins": 3}, [["A"], ["B"], ["C"], ["D"], ["E"]], [[1], [0], [1], [1], [2]]),
        ({"num_bins": 3, "mask_value": ""}, [["A"], ["B"], [""], ["C"], ["D"]], [[1], [1], [0], [2], [2]]),
        ({"num_bins": 3, "salt": [133, 137]}, [["A"], ["B"], ["C"], ["D"], ["E"]], [[1], [2], [1], [0], [2]]),
        ({"num_bins": 3, "salt": 133}, [["A"], ["B"], ["C"], ["D"], ["E"]], [[0], [0], [2], [1], [0]]),
        ({"num_bins": 2}, np.asarray(NAMES), [[0], [0], [1], [0], [0]]),
        ({"num_bins": 2}, ["omar", "stringer", "marlo", "wire", "skywalker"], [0, 0, 1, 0, 0]),
        ({"num_bins": 3, "mask_value": "omar"}, np.asarray(NAMES), [[0], [1], [2], [1], [1]]),
        ({"num_bins": 3}, np.asarray([[0], [1], [2], [3], [4]]), [[1], [0], [1], [0], [2]]),
        ({"num_bins": 2, "salt": [133, 137]}, np.asarray(NAMES), [[0], [1], [0], [1], [0]]),
        ({"num_bins": 2, "salt": [211, 137]}, np.asarray(NAMES), [[1], [0], [1], [0], [1]]),
        ({"num_bins": 3, "salt": [133, 137]}, np.asarray([[0], [1], [2], [3], [4]]), [[1], [1], [2], [0], [1]]),
        ({"num_bins": 1}, np.asarray([["A"], ["B"]]), [[0], [0]]),
    ],
)
def test_hashing_ids_equal_keras(kwargs, inputs, expected):
    out = layers.Hashing(**kwargs)(inputs)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64
    assert out.tolist() == expected


def test_hashing_int_tensor_and_encodings():
    x = torch.tensor([0, 1, 2, 3, 4])
    assert layers.Hashing(num_bins=3)(x).tolist() == [1, 0, 1, 0, 2]
    one_hot = layers.Hashing(num_bins=3, output_mode="one_hot")(x)
    np.testing.assert_array_equal(one_hot, np.eye(3)[[1, 0, 1, 0, 2]])
    assert layers.Hashing(num_bins=3, output_mode="multi_hot")(x[None]).tolist() == [[1, 1, 1]]
    assert layers.Hashing(num_bins=3, output_mode="count")(x[None]).tolist() == [[2, 2, 1]]
    assert layers.Hashing(num_bins=3, output_mode="count")(x).tolist() == [2, 2, 1]


def test_hashing_in_a_model_and_config():
    inputs = keraslike.Input(shape=(1,), dtype="int32")
    model = keraslike.Model(inputs, layers.Hashing(num_bins=3, output_mode="one_hot")(inputs))
    np.testing.assert_array_equal(model(np.array([[0], [1], [4]])), np.eye(3)[[1, 0, 2]])
    layer = layers.Hashing(num_bins=8, salt=3)
    config = layer.get_config()
    assert config["salt"] == [3, 3] and config["num_bins"] == 8
    assert layers.Hashing.from_config(config)(["x"]).tolist() == layer(["x"]).tolist()


def test_hashed_crossing_ids_equal_keras():
    # keras/src/layers/preprocessing/hashed_crossing_test.py
    feat1 = np.array(["A", "B", "A", "B", "A"])
    feat2 = np.array([101, 101, 101, 102, 102])
    assert layers.HashedCrossing(num_bins=5)((feat1, feat2)).tolist() == [1, 4, 1, 1, 3]
    assert layers.HashedCrossing(num_bins=10)(("A", 101)).tolist() == 1
    out = layers.HashedCrossing(num_bins=5, output_mode="one_hot")((feat1, feat2))
    np.testing.assert_array_equal(out, np.eye(5)[[1, 4, 1, 1, 3]])
    column = layers.HashedCrossing(num_bins=5)((feat1[:, None], feat2[:, None]))
    assert column.tolist() == [[1], [4], [1], [1], [3]]
    with pytest.raises(ValueError, match="at least two"):
        layers.HashedCrossing(num_bins=5)((feat1,))


# ---------------------------------------------------------------------- StringLookup

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
DATA4 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]


def test_string_lookup_docstring_examples():
    # keras/src/layers/preprocessing/string_lookup.py docstring
    assert layers.StringLookup(vocabulary=VOCAB)(DATA).tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = layers.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer(DATA).tolist() == [[5, 3, 1], [1, 2, 4]]
    two_oov = layers.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    assert two_oov([["a", "c", "d"], ["m", "z", "b"]]).tolist() == [[2, 4, 5], [0, 1, 3]]
    one_hot = layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    np.testing.assert_array_equal(one_hot, np.eye(5)[[1, 2, 3, 4, 0]])
    multi = layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(DATA4)
    assert multi.tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = layers.StringLookup(vocabulary=VOCAB, output_mode="count")(DATA4)
    assert count.tolist() == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    tf_idf = layers.StringLookup(output_mode="tf_idf")
    tf_idf.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tf_idf(DATA4), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]])
    tf_idf.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tf_idf(DATA4), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]])
    inverse = layers.StringLookup(vocabulary=VOCAB, invert=True)
    ids = layers.StringLookup(vocabulary=VOCAB)(DATA)
    assert inverse(ids) == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_string_lookup_mask_and_numpy_bytes():
    layer = layers.StringLookup(vocabulary=VOCAB, mask_token="[MASK]")
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]"] + VOCAB
    out = layer(np.array([b"a", b"[MASK]", b"q"], dtype=object))
    assert out.tolist() == [2, 0, 1]
    multi = layers.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    assert multi([["a", "", "z"]]).tolist() == [[1, 1, 0, 0, 0]]


def test_string_lookup_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\nd\n\n")
    layer = layers.StringLookup(vocabulary=str(path))
    assert layer(DATA).tolist() == [[1, 3, 4], [4, 0, 2]]
    assert layers.StringLookup.from_config(layer.get_config())(DATA).tolist() == [[1, 3, 4], [4, 0, 2]]
    with pytest.raises(ValueError, match="missing.txt does not exist"):
        layers.StringLookup(vocabulary=str(tmp_path / "missing.txt"))


def test_string_lookup_adapt_iterable_and_max_tokens():
    batches = (np.array(["x y".split(), "y z".split()]) for _ in range(3))
    layer = layers.StringLookup(max_tokens=3)
    layer.adapt(batches)
    assert layer.get_vocabulary() == ["[UNK]", "y", "z"]


# ---------------------------------------------------------------------- IntegerLookup

IVOCAB = [12, 36, 1138, 42]
IDATA = np.array([[12, 1138, 42], [42, 1000, 36]])


def test_integer_lookup_docstring_examples():
    # keras/src/layers/preprocessing/integer_lookup.py docstring
    assert layers.IntegerLookup(vocabulary=IVOCAB)(IDATA).tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = layers.IntegerLookup()
    layer.adapt(IDATA)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert layer(IDATA).tolist() == [[5, 2, 1], [1, 3, 4]]
    two = layers.IntegerLookup(vocabulary=IVOCAB, num_oov_indices=2)
    assert two(np.array([[12, 1138, 42], [37, 1000, 36]])).tolist() == [[2, 4, 5], [1, 0, 3]]
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    floormod = layers.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4)
    assert floormod(oov).tolist() == [0] * 6
    farm = layers.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")
    assert farm(oov).tolist() == [3, 3, 2, 2, 0, 1]
    data4 = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])
    multi = layers.IntegerLookup(vocabulary=IVOCAB, output_mode="multi_hot")(data4)
    assert multi.tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = layers.IntegerLookup(vocabulary=IVOCAB, output_mode="count")(data4)
    assert count.tolist() == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    tf_idf = layers.IntegerLookup(
        vocabulary=IVOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4], output_mode="tf_idf"
    )
    np.testing.assert_allclose(tf_idf(data4), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]])
    inverse = layers.IntegerLookup(vocabulary=IVOCAB, invert=True)
    assert inverse(torch.tensor([[1, 3, 4], [4, 0, 2]])).tolist() == [[12, 1138, 42], [42, -1, 36]]


def test_integer_lookup_mask_and_strings_refused():
    layer = layers.IntegerLookup(vocabulary=IVOCAB, mask_token=0)
    assert layer(torch.tensor([12, 0, 5])).tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="takes numbers.*inputs="):
        layer(np.array(["12", "36"]))
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        layers.IntegerLookup(vocabulary=IVOCAB, num_oov_indices=0)(torch.tensor([5]))


def test_integer_lookup_saved_in_a_model(tmp_path):
    lookup = layers.IntegerLookup(output_mode="multi_hot")
    lookup.adapt(IDATA)
    inputs = keraslike.Input(shape=(3,), dtype="int64")
    model = keraslike.Model(inputs, layers.Dense(2)(lookup(inputs)))
    expected = model(IDATA)
    model.save(tmp_path / "m.safetensors")
    loaded = keraslike.saving.load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(loaded(IDATA).detach(), expected.detach())
    assert loaded.layers[1].get_vocabulary() == lookup.get_vocabulary()


# ---------------------------------------------------------------------- TextVectorization


def test_text_vectorization_keras_test_expectations():
    # keras/src/layers/preprocessing/text_vectorization_test.py
    layer = layers.TextVectorization(output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    assert layer(["foo qux bar", "qux baz"]).tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    fixed = layers.TextVectorization(output_sequence_length=4, vocabulary=["baz", "bar", "foo"])
    assert fixed(np.array([["foo qux bar"], ["qux baz"]])).tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    multi = layers.TextVectorization(output_mode="multi_hot", vocabulary=["foo", "bar", "baz"])
    assert multi([["foo bar"], ["baz foo foo"]]).tolist() == [[0, 1, 1, 0], [0, 1, 0, 1]]
    count = layers.TextVectorization(output_mode="count", vocabulary=["foo", "bar", "baz"])
    assert count(["foo bar", "baz foo foo"]).tolist() == [[0, 1, 1, 0], [0, 2, 0, 1]]
    tf_idf = layers.TextVectorization(
        output_mode="tf_idf", vocabulary=["foo", "bar", "baz"], idf_weights=[0.3, 0.5, 0.2]
    )
    np.testing.assert_allclose(tf_idf(["foo bar", "baz foo foo"]), [[0, 0.3, 0.5, 0], [0, 0.6, 0, 0.2]])
    text = ["Hello, World!. This is just a nice test!"]
    strip = layers.TextVectorization(vocabulary=["hello", "world", "this", "is", "nice", "test"])
    assert strip(text).tolist() == [[2, 3, 4, 5, 1, 1, 6, 7]]
    lower = layers.TextVectorization(
        standardize="lower", vocabulary=["hello,", "hello", "world", "this", "is", "nice", "test"]
    )
    assert lower(text).tolist() == [[2, 1, 5, 6, 1, 1, 7, 1]]
    char = layers.TextVectorization(split="character", vocabulary=list("abcde"))
    assert char(["abcf"]).tolist() == [[2, 3, 4, 1]]
    custom = layers.TextVectorization(
        split=lambda x: [s.split("|") for s in x], vocabulary=["foo", "bar", "foobar"]
    )
    assert custom(["foo|bar"]).tolist() == [[4]]  # "|" is stripped as punctuation first
    case = layers.TextVectorization(standardize="strip_punctuation", vocabulary=["Hello", "World", "Test"])
    assert case(["Hello, World! Test."]).tolist() == [[2, 3, 4]]
    raw = layers.TextVectorization(standardize=None, vocabulary=["Hello", "world"])
    assert raw(["Hello hello"]).tolist() == [[2, 1]]
    ngrams = layers.TextVectorization(
        ngrams=2, vocabulary=["foo", "bar", "foobar", "foo bar"], output_mode="count"
    )
    assert ngrams(["foo bar"]).tolist() == [[0, 1, 1, 0, 1]]


def test_text_vectorization_standardize_like_tensorflow():
    layer = layers.TextVectorization(split=None, vocabulary=["hello world", "café"])
    # ASCII-only lowering (tf.strings.lower), Keras's punctuation set.
    assert layer(["Hello, World!", "CAFÉ", "café."]).tolist() == [2, 1, 3]
    callable_layer = layers.TextVectorization(
        standardize=lambda x: np.char.upper(x), vocabulary=["A", "B"]
    )
    assert callable_layer(["a b c"]).tolist() == [[2, 3, 1]]


def test_text_vectorization_tf_idf_and_adapt_on_loader():
    layer = layers.TextVectorization(output_mode="tf_idf")
    loader = torch.utils.data.DataLoader(["a b b c", "a d"], batch_size=1)
    layer.adapt(loader)
    assert layer.get_vocabulary() == ["[UNK]", "b", "a", "d", "c"]
    idf = np.log(1 + 2 / (1 + np.array([1, 2, 1, 1])))
    expected = [np.mean(idf), 2 * idf[0], idf[1], 0, 0]
    np.testing.assert_allclose(layer(["a b b z"])[0], [expected[0], expected[1], expected[2], 0, 0], rtol=1e-6)


def test_text_vectorization_config_round_trip_keeps_vocabulary():
    layer = layers.TextVectorization(max_tokens=5, output_sequence_length=3, ngrams=(1, 2))
    layer.adapt(["the cat sat", "the cat ran", "a dog"])
    config = layer.get_config()
    assert config["vocabulary_size"] == 5 and config["ngrams"] == (1, 2)
    clone = keraslike.saving.deserialize_keras_object(keraslike.saving.serialize_keras_object(layer))
    assert clone.get_vocabulary() == layer.get_vocabulary()
    texts = ["the dog sat", "a cat"]
    assert clone(texts).tolist() == layer(texts).tolist()


# ---------------------------------------------------------------------- CategoryEncoding / Discretization


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize(
    "x", [np.array([1, 2, 0]), np.array([[1, 2], [0, 0]]), np.array([[[1], [2]], [[0], [3]]]), np.array(2)]
)
def test_category_encoding_parity(mode, x):
    expected = keras.layers.CategoryEncoding(4, output_mode=mode)(x)
    out = layers.CategoryEncoding(4, output_mode=mode)(x)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out, expected.cpu().numpy())
    config = layers.CategoryEncoding(4, output_mode=mode, name="enc").get_config()
    assert config == keras.layers.CategoryEncoding(4, output_mode=mode, name="enc").get_config()


def test_category_encoding_count_weights():
    x, w = np.array([[0, 1, 1]]), np.array([[0.5, 1.0, 2.0]], dtype="float32")
    expected = keras.layers.CategoryEncoding(3, output_mode="count")(x, count_weights=w)
    np.testing.assert_allclose(layers.CategoryEncoding(3, output_mode="count")(x, count_weights=w), expected.cpu())


@pytest.mark.parametrize("shape,num_bins,epsilon", [((1000,), 5, 0.01), ((37, 3), 4, 0.1), ((4000, 2), 10, 0.01)])
def test_discretization_adapt_parity(shape, num_bins, epsilon):
    data = np.random.default_rng(0).normal(size=shape).astype("float32")
    oracle = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    oracle.reset_state()  # Keras's adapt() needs tf.data; its update/finalize do not
    oracle.update_state(data[: len(data) // 2])
    oracle.update_state(data[len(data) // 2 :])
    oracle.finalize_state()
    ours = layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt([data[: len(data) // 2], data[len(data) // 2 :]])
    assert ours.bin_boundaries == oracle.bin_boundaries
    assert {**ours.get_config(), "name": ""} == {**oracle.get_config(), "name": ""}


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_call_parity(mode):
    x = np.array([[-1.5, 0.0, 0.5, 2.0], [1.0, -1.0, 3.0, 0.2]], dtype="float32")
    expected = keras.layers.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], output_mode=mode)(x)
    out = layers.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], output_mode=mode)(torch.from_numpy(x))
    assert str(out.dtype).replace("torch.", "") == str(expected.dtype).replace("torch.", "")
    np.testing.assert_array_equal(out, expected.cpu().numpy())


def test_stateful_layers_saved_in_a_model(tmp_path):
    data = np.random.default_rng(1).normal(size=(64, 3)).astype("float32")
    norm = layers.Normalization()
    norm.adapt(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(data)), batch_size=16))
    np.testing.assert_allclose(norm.mean.reshape(-1), data.mean(0), rtol=1e-5, atol=1e-6)
    disc = layers.Discretization(num_bins=4)
    disc.adapt(data)
    inputs = keraslike.Input(shape=(3,))
    encoded = layers.CategoryEncoding(4, output_mode="count")(disc(inputs))
    model = keraslike.Model(inputs, layers.Concatenate()([norm(inputs), encoded]))
    expected = model(data)
    model.save(tmp_path / "m.safetensors")
    loaded = keraslike.saving.load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(loaded(data), expected)


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.StringLookup(output_mode="bogus"),
        lambda: layers.IntegerLookup(output_mode="bogus"),
        lambda: layers.TextVectorization(output_mode="bogus"),
        lambda: layers.CategoryEncoding(3, output_mode="bogus"),
        lambda: layers.Discretization(num_bins=3, output_mode="bogus"),
        lambda: layers.Hashing(3, output_mode="bogus"),
    ],
)
def test_unknown_output_mode(make):
    with pytest.raises(ValueError, match="output_mode='bogus'"):
        make()


def test_strings_given_to_number_layers():
    for layer in (layers.CategoryEncoding(3), layers.Discretization(bin_boundaries=[0.0])):
        with pytest.raises(ValueError, match="takes numbers"):
            layer(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="takes strings"):
        layers.TextVectorization(vocabulary=["a"])(torch.tensor([1, 2]))

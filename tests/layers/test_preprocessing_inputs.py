"""Bad and varied inputs of preprocessing and numeric layers: strings given to layers that take
numbers, vocabulary files that do not exist, Normalization.adapt over generators and loaders."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import layers

STRINGS = np.array([["a", "b"]])


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.Dense(2),
        lambda: layers.Normalization(mean=0.0, variance=1.0),
        lambda: layers.Discretization(bin_boundaries=[0.0]),
        lambda: layers.CategoryEncoding(3),
        lambda: layers.IntegerLookup(vocabulary=[1, 2]),
    ],
)
def test_strings_given_to_a_number_layer_name_the_layer(make):
    layer = make()
    with pytest.raises(ValueError, match=f'"{layer.name}".*takes numbers'):
        layer(STRINGS)


def test_strings_given_to_a_model_and_to_normalization_adapt():
    inputs = keraslike.Input((2,))
    model = keraslike.Model(inputs, layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match='"functional".*takes numbers.*<U1'):
        model(STRINGS)
    norm = layers.Normalization()
    with pytest.raises(ValueError, match=f'"{norm.name}".*takes numbers'):
        norm.adapt(STRINGS)
    with pytest.raises(ValueError, match="takes numbers"):
        norm.adapt(x for x in [np.array([["1", "2"]])])
    # Object arrays of numbers still work.
    np.testing.assert_allclose(
        layers.Rescaling(2.0)(torch.ones(1, 2)).numpy(), [[2.0, 2.0]])
    assert layers.Dense(1)(np.array([[1.0, 2.0]], dtype=object)).shape == (1, 1)


@pytest.mark.parametrize("make", [layers.StringLookup, layers.IntegerLookup,
                                  layers.TextVectorization])
def test_missing_vocabulary_file_names_the_path(tmp_path, make):
    path = tmp_path / "nowhere" / "vocab.txt"
    with pytest.raises(ValueError, match=f"{path}.*does not exist"):
        make(vocabulary=str(path))


def test_normalization_adapt_over_generators_and_loaders_equals_the_array():
    data = np.random.default_rng(0).normal(2.0, 3.0, size=(50, 3)).astype("float32")
    reference = layers.Normalization()
    reference.adapt(data)
    sources = [
        (data[i:i + 8] for i in range(0, 50, 8)),
        torch.utils.data.DataLoader(torch.from_numpy(data), batch_size=7),
        torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(data), torch.zeros(50)), batch_size=16),
    ]
    for source in sources:
        layer = layers.Normalization()
        layer.adapt(source)
        np.testing.assert_allclose(layer.mean.numpy(), reference.mean.numpy(), rtol=1e-5)
        np.testing.assert_allclose(layer.variance.numpy(), reference.variance.numpy(), rtol=1e-4)


def test_text_vectorization_flat_fast_path_equals_the_row_path():
    rng = np.random.default_rng(5)
    words = ["The", "cat,", "SAT!", "on", "a", "mat.", "it's", "", "  "]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 9))) for _ in range(200)]
    layer = layers.TextVectorization(output_sequence_length=4)
    layer.adapt(texts)
    flat, lengths, shape = layer._flat_tokens(texts)
    rows, row_shape = layer._rows(texts)
    assert flat == [t for row in rows for t in row] and shape == row_shape
    np.testing.assert_array_equal(lengths, [len(row) for row in rows])
    index = {t: i for i, t in enumerate(layer.get_vocabulary())}
    expected = np.zeros((len(rows), 4), dtype=np.int64)
    for r, row in enumerate(rows):
        ids = [index.get(t, 1) for t in row[:4]]
        expected[r, :len(ids)] = ids
    np.testing.assert_array_equal(layer(texts).numpy(), expected)
    # Text that is not plain ASCII, or holds a newline, takes the row path: same results.
    assert layer._flat_tokens(["caf\u00e9 cat"]) is None and layer._flat_tokens(["a\nb"]) is None
    np.testing.assert_array_equal(layer(["a\ncat sat"]).numpy(), layer(["a cat sat"]).numpy())

"""pad_sequences against Keras for every argument."""

import numpy as np
import pytest

from keraslike.utils import pad_sequences


@pytest.fixture(scope="module")
def kpad():
    return pytest.importorskip("keras").utils.pad_sequences


SEQS = [[1], [2, 3], [4, 5, 6], []]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"maxlen": 2}, {"padding": "post"}, {"truncating": "post", "maxlen": 2}, {"value": -1},
     {"dtype": "float32", "value": 0.5}, {"maxlen": 5, "padding": "post", "truncating": "post"},
     {"dtype": "int64"}],
)
def test_matches_keras(kpad, kwargs):
    ours, theirs = pad_sequences(SEQS, **kwargs), kpad(SEQS, **kwargs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_defaults_and_docstring_example():
    out = pad_sequences([[1], [2, 3], [4, 5, 6]])
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])


def test_items_with_a_shape_and_strings(kpad):
    seqs = [np.ones((2, 3)), np.zeros((1, 3))]
    np.testing.assert_array_equal(pad_sequences(seqs, dtype="float32"), kpad(seqs, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(pad_sequences(words, dtype=object, value="<pad>"), kpad(words, dtype=object, value="<pad>"))


def test_errors():
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="Padding type"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="Truncating type"):
        pad_sequences([[1]], truncating="middle")
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match="different from expected shape"):
        pad_sequences([np.ones((1, 2)), np.ones((1, 3))])

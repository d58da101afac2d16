"""`timeseries_dataset_from_array` (Keras 3 builds it on tf.data, so the expected windows are
those of Keras's docstring and unit tests, `keras/src/utils/timeseries_dataset_utils*.py`)."""

import numpy as np
import pytest
import torch

import keraslike


def test_docstring_example_windows_and_targets():
    data = np.arange(100)
    ds = keraslike.utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    x, y = next(iter(ds))
    assert x.shape == (81, 10) and y.shape == (81,)  # one batch of 128 holds all 81 windows
    np.testing.assert_array_equal(x[0], np.arange(10))
    np.testing.assert_array_equal(y[:3], [10, 11, 12])


def test_stride_rate_and_index_range():
    ds = keraslike.preprocessing.timeseries_dataset_from_array(
        np.arange(20), None, sequence_length=5, sampling_rate=2, sequence_stride=3,
        start_index=2, end_index=18, batch_size=None,
    )
    assert [w.tolist() for w in ds] == [[2, 4, 6, 8, 10], [5, 7, 9, 11, 13], [8, 10, 12, 14, 16]]


def test_basics_from_keras_tests():
    # keras/src/utils/timeseries_dataset_utils_test.py::test_basics
    data = np.arange(100)
    targets = data * 2
    ds = keraslike.utils.timeseries_dataset_from_array(data, targets, sequence_length=9, batch_size=5)
    sizes = [len(x) for x, _ in ds]
    assert sizes == [5] * 18 + [2]  # 92 windows
    for i, (x, y) in enumerate(ds):
        assert x.shape[1] == 9
        if i < 18:
            np.testing.assert_array_equal(x[0], np.arange(i * 5, i * 5 + 9))
            np.testing.assert_array_equal(y, targets[i * 5 : i * 5 + 5])


def test_shuffle_is_seeded_and_complete():
    make = lambda: keraslike.utils.timeseries_dataset_from_array(  # noqa: E731
        np.arange(50), np.arange(50), sequence_length=3, batch_size=8, shuffle=True, seed=7
    )
    first = torch.cat([y for _, y in make()]).tolist()
    assert first == torch.cat([y for _, y in make()]).tolist()
    assert sorted(first) == list(range(48)) and first != list(range(48))


def test_fit_takes_it():
    inputs = keraslike.Input(shape=(4, 1))
    model = keraslike.Model(inputs, keraslike.layers.Dense(1)(keraslike.layers.Flatten()(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    series = np.sin(np.arange(60) / 5).astype("float32")[:, None]
    ds = keraslike.utils.timeseries_dataset_from_array(series[:-4], series[4:, 0], 4, batch_size=16)
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"start_index": -1}, "start_index"),
        ({"sampling_rate": 0}, "sampling_rate"),
        ({"sequence_stride": 0}, "sequence_stride"),
        ({"end_index": 200}, "end_index"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keraslike.utils.timeseries_dataset_from_array(np.arange(100), None, 5, **kwargs)

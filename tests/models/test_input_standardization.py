"""A graph model takes its inputs as Keras 3's Functional does: a trailing axis of size 1 added or
dropped to meet the Input's rank, every input converted to its Input's dtype, and
`compute_output_shape` run through the graph."""

import numpy as np
import pytest
import torch

import keraslike


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _image_model(lib, channels_last_axis):
    inputs = lib.Input((4, 4, 1) if channels_last_axis else (4, 4), name="image")
    x = lib.layers.Flatten()(inputs)
    return lib.Model(inputs, lib.layers.Dense(2)(x))


@pytest.mark.parametrize("input_has_axis", [True, False])
def test_trailing_axis_of_size_one_is_added_or_dropped_as_keras(keras, input_has_axis):
    theirs, ours = _image_model(keras, input_has_axis), _image_model(keraslike, input_has_axis)
    ours.set_weights(theirs.get_weights())
    data = np.random.default_rng(0).normal(size=(3, 4, 4) if input_has_axis else (3, 4, 4, 1))
    data = data.astype("float32")
    expected = np.asarray(theirs.predict(data, verbose=0))
    np.testing.assert_allclose(ours.predict(data, verbose=0), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours(torch.as_tensor(data)).detach().numpy(), expected, rtol=1e-6, atol=1e-6)


def test_other_rank_mismatches_still_raise():
    model = _image_model(keraslike, True)
    with pytest.raises(ValueError, match="image"):
        model(torch.ones(3, 16))


def test_integer_data_is_cast_to_the_float_input_and_float_data_to_the_int_input():
    inputs = keraslike.Input((3,))
    model = keraslike.Model(inputs, keraslike.layers.Dense(2)(inputs))
    x = np.arange(6).reshape(2, 3)
    expected = model(torch.as_tensor(x, dtype=torch.float32))
    torch.testing.assert_close(model(torch.as_tensor(x)), expected)
    torch.testing.assert_close(model(x), expected)
    ids = keraslike.Input((3,), dtype="int32")
    embed = keraslike.Model(ids, keraslike.layers.Embedding(10, 2)(ids))
    torch.testing.assert_close(embed(torch.tensor([[1.7, 2.0, 3.2]])), embed(torch.tensor([[1, 2, 3]])))


def test_compute_output_shape_runs_the_graph_and_checks_the_input(keras):
    def build(lib):
        inputs = lib.Input((3,), name="features")
        return lib.Model(inputs, [lib.layers.Dense(2)(inputs), lib.layers.Dense(4)(inputs)])

    for shape in ((None, 3), (7, 3)):
        assert keraslike_shapes(build(keraslike), shape) == keraslike_shapes(build(keras), shape)
    with pytest.raises(ValueError, match="features"):
        build(keraslike).compute_output_shape((None, 5))


def keraslike_shapes(model, shape):
    return [tuple(s) for s in model.compute_output_shape(shape)]

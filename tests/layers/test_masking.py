"""Masking: outputs, the produced mask (eager and symbolic), and its use downstream."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import layers
from tests.layer_harness import check_layer


def _padded(mask_value=0.0):
    x = np.random.default_rng(0).standard_normal((3, 5, 4)).astype("float32")
    x[0, 3:] = mask_value
    x[1, 0] = mask_value
    x[2, 2, :2] = mask_value  # only partly equal: not masked
    return x


@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_parity(mask_value):
    check_layer("Masking", {"mask_value": mask_value}, input_data=_padded(mask_value))


@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_output_and_mask_match_keras(mask_value):
    import keras

    x = _padded(mask_value)
    ours, theirs = layers.Masking(mask_value), keras.layers.Masking(mask_value)
    expected_mask = theirs.compute_mask(keras.ops.convert_to_tensor(x)).cpu().numpy()
    mask = ours.compute_mask(torch.as_tensor(x))
    assert mask.dtype == torch.bool and mask.shape == (3, 5)
    np.testing.assert_array_equal(mask.numpy(), expected_mask)
    np.testing.assert_array_equal(mask.numpy(), [[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1] * 5])
    out = ours(torch.as_tensor(x)).numpy()
    np.testing.assert_array_equal(out, np.where(expected_mask[..., None], x, 0.0))


def test_masking_produces_a_symbolic_mask_for_downstream_layers():
    inputs = keraslike.Input((5, 4))
    masked = layers.Masking()(inputs)
    assert masked.shape == (None, 5, 4)
    assert masked._keras_mask.shape == (None, 5) and masked._keras_mask.dtype == "bool"
    # A mask-consuming layer receives it: BatchNormalization leaves masked steps out of its stats.
    model = keraslike.Model(inputs, layers.BatchNormalization()(masked))
    x = torch.randn(2, 5, 4)
    x[0, 2:] = 0.0
    out = model(x, training=True)
    keep = x.ne(0).any(-1)
    torch.testing.assert_close(out[keep].mean(0), torch.zeros(4), atol=1e-5, rtol=0)

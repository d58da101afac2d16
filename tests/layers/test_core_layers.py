"""Parity of the core layers with Keras 3 through the shared harness."""

import pytest

from tests.layer_harness import check_layer

CASES = [
    ("Dense", {"units": 3}, (2, 4)),
    ("Dense", {"units": 5, "activation": "relu", "use_bias": False}, (2, 3, 4)),
    ("Dense", {"units": 2, "activation": "softmax"}, (4, 6)),
    ("Activation", {"activation": "tanh"}, (2, 5)),
    ("Identity", {}, (2, 5)),
    ("Dropout", {"rate": 0.5}, (2, 5)),
    ("Flatten", {}, (2, 3, 4, 5)),
    ("Flatten", {"data_format": "channels_first"}, (2, 3, 4, 5)),
    ("Reshape", {"target_shape": (4, 3)}, (2, 12)),
    ("Reshape", {"target_shape": (-1, 2)}, (2, 3, 4)),
]


@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=[c[0] for c in CASES])
def test_core_layer_parity(name, kwargs, shape):
    check_layer(name, kwargs, shape)


def test_embedding_parity():
    check_layer("Embedding", {"input_dim": 10, "output_dim": 4}, (2, 5), input_dtype="int32")
    check_layer(
        "Embedding", {"input_dim": 10, "output_dim": 3, "mask_zero": True}, (2, 5), input_dtype="int32"
    )


MERGE_CASES = [
    ("Add", {}, [(2, 3), (2, 3)]),
    ("Subtract", {}, [(2, 3), (2, 3)]),
    ("Multiply", {}, [(2, 3), (2, 3), (2, 3)]),
    ("Average", {}, [(2, 3), (2, 3)]),
    ("Maximum", {}, [(2, 3), (2, 3)]),
    ("Minimum", {}, [(2, 3), (2, 3)]),
    ("Concatenate", {}, [(2, 3), (2, 4)]),
    ("Concatenate", {"axis": 1}, [(2, 3, 4), (2, 2, 4)]),
    ("Dot", {"axes": 1}, [(2, 3), (2, 3)]),
    ("Dot", {"axes": (2, 2), "normalize": True}, [(2, 3, 4), (2, 5, 4)]),
]


@pytest.mark.parametrize("name,kwargs,shapes", MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
def test_merge_layer_parity(name, kwargs, shapes):
    check_layer(name, kwargs, shapes)

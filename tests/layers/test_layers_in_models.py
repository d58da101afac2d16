"""Every built-in layer where users use it: a functional Model, a `fit` step, save/load, compile.

`check_layer_in_model` (tests/layer_harness.py) asserts that `fit` changes the layer's weights,
that `training=True` reaches its `call` in `fit` (False in `predict`/`evaluate`), that a save/load
round trip gives the same outputs, and (slow) that `torch.compile(fullgraph=True)` does too.
"""

import pytest

import keraslike
from tests.layer_harness import check_layer_in_model

# (class name, init kwargs, input shape with batch, input dtype)
LAYERS = [
    ("Dense", {"units": 3}, (4, 5), "float32"),
    ("Dense", {"units": 3, "kernel_regularizer": "l2", "activity_regularizer": "l1"}, (4, 5), "float32"),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "c"}, (4, 5), "float32"),
    ("Embedding", {"input_dim": 10, "output_dim": 3}, (4, 6), "int64"),
    ("Activation", {"activation": "relu"}, (4, 5), "float32"),
    ("Identity", {}, (4, 5), "float32"),
    ("Masking", {}, (4, 3, 5), "float32"),
    ("ReLU", {}, (4, 5), "float32"),
    ("LeakyReLU", {}, (4, 5), "float32"),
    ("PReLU", {"alpha_initializer": "ones"}, (4, 5), "float32"),
    ("ELU", {}, (4, 5), "float32"),
    ("Softmax", {}, (4, 5), "float32"),
    ("Conv1D", {"filters": 3, "kernel_size": 2}, (4, 6, 2), "float32"),
    ("Conv2D", {"filters": 3, "kernel_size": 2, "padding": "same", "strides": 2}, (4, 6, 6, 2), "float32"),
    ("Conv3D", {"filters": 2, "kernel_size": 2}, (2, 4, 4, 4, 2), "float32"),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 2}, (4, 6, 2), "float32"),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 2}, (4, 5, 5, 2), "float32"),
    ("DepthwiseConv2D", {"kernel_size": 2}, (4, 6, 6, 2), "float32"),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 2}, (4, 6, 6, 2), "float32"),
    ("MaxPooling2D", {}, (4, 6, 6, 2), "float32"),
    ("AveragePooling1D", {"pool_size": 2}, (4, 6, 2), "float32"),
    ("GlobalAveragePooling2D", {}, (4, 6, 6, 2), "float32"),
    ("GlobalMaxPooling1D", {}, (4, 6, 2), "float32"),
    ("BatchNormalization", {}, (4, 5), "float32"),
    ("LayerNormalization", {}, (4, 5), "float32"),
    ("GroupNormalization", {"groups": 2}, (4, 3, 4), "float32"),
    ("UnitNormalization", {}, (4, 5), "float32"),
    ("Dropout", {"rate": 0.5}, (4, 5), "float32"),
    ("SpatialDropout1D", {"rate": 0.5}, (4, 3, 5), "float32"),
    ("GaussianNoise", {"stddev": 0.1}, (4, 5), "float32"),
    ("GaussianDropout", {"rate": 0.3}, (4, 5), "float32"),
    ("AlphaDropout", {"rate": 0.3}, (4, 5), "float32"),
    ("ActivityRegularization", {"l1": 0.01}, (4, 5), "float32"),
    ("Flatten", {}, (4, 3, 2), "float32"),
    ("Reshape", {"target_shape": (6,)}, (4, 3, 2), "float32"),
    ("Permute", {"dims": (2, 1)}, (4, 3, 2), "float32"),
    ("RepeatVector", {"n": 3}, (4, 5), "float32"),
    ("Cropping1D", {"cropping": 1}, (4, 5, 2), "float32"),
    ("ZeroPadding2D", {"padding": 1}, (4, 3, 3, 2), "float32"),
    ("UpSampling2D", {"size": 2}, (4, 3, 3, 2), "float32"),
    ("Add", {}, [(4, 5), (4, 5)], "float32"),
    ("Concatenate", {}, [(4, 5), (4, 3)], "float32"),
    ("Multiply", {}, [(4, 5), (4, 5)], "float32"),
    ("Dot", {"axes": 1}, [(4, 5), (4, 5)], "float32"),
    ("Attention", {}, [(4, 3, 5), (4, 2, 5)], "float32"),
    ("AdditiveAttention", {}, [(4, 3, 5), (4, 2, 5)], "float32"),
    ("SimpleRNN", {"units": 3}, (4, 3, 2), "float32"),
    ("LSTM", {"units": 3, "return_sequences": True}, (4, 3, 2), "float32"),
    ("GRU", {"units": 3, "dropout": 0.2}, (4, 3, 2), "float32"),
    ("ConvLSTM1D", {"filters": 2, "kernel_size": 2}, (2, 3, 5, 2), "float32"),
    ("Rescaling", {"scale": 0.5}, (4, 5), "float32"),
]

_IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(LAYERS)]


def _present(name):
    if not hasattr(keraslike.layers, name):
        pytest.skip(f"keraslike lacks layers.{name}")


@pytest.mark.parametrize("name, kwargs, shape, dtype", LAYERS, ids=_IDS)
def test_layer_in_model_fit_and_save(name, kwargs, shape, dtype, tmp_path):
    _present(name)
    check_layer_in_model(name, kwargs, shape, input_dtype=dtype, tmp_path=tmp_path)


def test_bidirectional_and_time_distributed_in_model(tmp_path):
    for name, kwargs, shape in [
        ("Bidirectional", {"layer": keraslike.layers.LSTM(2)}, (4, 3, 2)),
        ("TimeDistributed", {"layer": keraslike.layers.Dense(2)}, (4, 3, 2)),
    ]:
        check_layer_in_model(name, kwargs, shape, tmp_path=tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name, kwargs, shape, dtype", LAYERS, ids=_IDS)
def test_layer_in_model_compiles_fullgraph(name, kwargs, shape, dtype):
    _present(name)
    check_layer_in_model(name, kwargs, shape, input_dtype=dtype, compile_check=True)

"""AdaptiveAveragePooling1D/2D/3D, AdaptiveMaxPooling1D/2D/3D and RMSNormalization against
Keras 3.15 (torch backend), through the shared layer harness (outputs, shapes, configs)."""

import numpy as np
import pytest

import keraslike
from tests.layer_harness import check_layer

pytest.importorskip("keras")


@pytest.mark.parametrize("kind", ["Average", "Max"])
@pytest.mark.parametrize(
    "rank,kwargs,shape",
    [
        (1, {"output_size": 3}, (2, 7, 4)),
        (2, {"output_size": (3, 2)}, (2, 7, 5, 3)),
        (2, {"output_size": 4, "data_format": "channels_first"}, (2, 3, 9, 6)),
        (3, {"output_size": 2}, (1, 5, 4, 3, 2)),
    ],
)
def test_adaptive_pooling_parity(kind, rank, kwargs, shape):
    check_layer(f"Adaptive{kind}Pooling{rank}D", kwargs, shape)


def test_adaptive_pooling_bad_size():
    with pytest.raises(TypeError, match="output_size"):
        keraslike.layers.AdaptiveAveragePooling2D((1, 2, 3))


@pytest.mark.parametrize(
    "kwargs,shape",
    [({}, (2, 8)), ({"axis": [1, 2]}, (2, 3, 4)), ({"epsilon": 1e-3}, (3, 5, 2))],
)
def test_rms_normalization_parity(kwargs, shape):
    ours, _, _, _ = check_layer("RMSNormalization", kwargs, shape)
    assert [tuple(w.shape) for w in ours.get_weights()] == [
        tuple(np.array(shape)[np.atleast_1d(kwargs.get("axis", -1))])
    ]


def test_rms_normalization_saved(tmp_path):
    inputs = keraslike.Input(shape=(6,))
    model = keraslike.Model(inputs, keraslike.layers.RMSNormalization()(inputs))
    model.layers[1].set_weights([np.linspace(0.5, 2.0, 6).astype("float32")])
    x = np.random.default_rng(0).normal(size=(3, 6)).astype("float32")
    model.save(tmp_path / "m.safetensors")
    loaded = keraslike.saving.load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

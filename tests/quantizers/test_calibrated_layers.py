"""Dense/EinsumDense in GPTQ/AWQ mode as Keras 3.15's layer tests check them (dense_test.py)."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import layers
from keraslike.quantizers import AWQConfig, GPTQConfig, unpack_int4

CONFIGS = {
    "gptq": lambda: GPTQConfig(None, None, weight_bits=4, group_size=8),
    "awq": lambda: AWQConfig(None, None, group_size=8, num_grid_points=10),
}


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_serialization_and_packing(mode):
    layer = layers.Dense(units=16, use_bias=False)
    layer.build((None, 8))
    layer.quantize(mode, config=CONFIGS[mode]())
    assert layer.quantized_kernel.numel() == 16 * 8 // 2
    assert not getattr(layer, f"is_{mode}_calibrated")
    new_layer = layers.Dense.from_config(layer.get_config())
    new_layer.build((None, 8))
    assert new_layer.quantization_mode == mode
    assert new_layer.dtype_policy.name == f"{mode}/4/8_from_float32"


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_kernel_returns_unpacked_form(mode):
    layer = layers.Dense(units=2)
    layer.build((None, 2))
    layer.quantize(mode, config=CONFIGS[mode]())
    with torch.no_grad():
        layer.quantized_kernel.copy_(torch.tensor([[0x3A, 0x1F]], dtype=torch.uint8))
    setattr(layer, f"is_{mode}_calibrated", True)  # as Keras's test: bypass the calibration
    torch.testing.assert_close(layer.kernel, unpack_int4(layer.quantized_kernel, 2, dtype="uint8"))
    assert layer.kernel.tolist() == [[10, 15], [3, 1]]


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_load_own_variables(mode):
    rng = np.random.default_rng(0)
    store = {
        "0": rng.random((16,)).astype("float32"),
        "1": rng.integers(0, 16, size=(8, 8), dtype="uint8"),
        "2": rng.random((16, 1)).astype("float32"),
        "3": rng.integers(0, 16, size=(16, 1), dtype="uint8"),
    }
    extra = [rng.random((8,)).astype("float32")]  # g_idx
    if mode == "awq":
        extra.insert(0, rng.random((8,)).astype("float32") + 0.5)  # awq_scales
    for i, value in enumerate(extra, start=4):
        store[str(i)] = value
    layer = layers.Dense(units=16, dtype=f"{mode}/4/-1_from_float32")
    layer.build((None, 8))
    layer.load_own_variables(store)
    assert getattr(layer, f"is_{mode}_calibrated")
    names = ["bias", "quantized_kernel", "kernel_scale", "kernel_zero"]
    names += ["awq_scales", "g_idx"] if mode == "awq" else ["g_idx"]
    for i, name in enumerate(names):
        np.testing.assert_allclose(getattr(layer, name).detach().numpy(), store[str(i)])
    short = layers.Dense(units=16, dtype=f"{mode}/4/-1_from_float32")
    short.build((None, 8))
    # What Keras 3.15 writes: the same variables without `kernel_zero`.
    values = [v for k, v in sorted(store.items()) if k != "3"]
    with pytest.raises(ValueError, match="cannot be recovered"):
        short.load_own_variables({str(i): v for i, v in enumerate(values)})


@pytest.mark.parametrize("equation, output_shape, input_shape, weights", [
    ("ab,bc->ac", 6, (None, 4), [((3, 4), "uint8"), ((6, 1), "float32"),
                                 ((6, 1), "uint8"), ((4,), "float32")]),
    ("btd,dhk->bthk", (None, 2, 3), (None, 5, 8), [((3, 8), "uint8"), ((6, 1), "float32"),
                                                  ((6, 1), "uint8"), ((8,), "float32")]),
    ("bthk,hkd->btd", (None, 8), (None, 5, 2, 3), [((4, 6), "uint8"), ((8, 1), "float32"),
                                                  ((8, 1), "uint8"), ((6,), "float32")]),
])
def test_einsum_dense_weights_from_policy(equation, output_shape, input_shape, weights):
    layer = layers.EinsumDense(equation, output_shape, dtype="gptq/4/-1_from_float32")
    layer.build(input_shape)
    got = [(tuple(w.shape), str(w.dtype).replace("torch.", "")) for w in layer.weights]
    assert got == weights
    assert [w.path.split("/")[-1] for w in layer.weights] == [
        "kernel", "kernel_scale", "zero_point", "g_idx"]
    keras = pytest.importorskip("keras")
    k_layer = keras.layers.EinsumDense(equation, output_shape, dtype="gptq/4/-1_from_float32")
    k_layer.build(input_shape)
    assert [(tuple(w.shape), w.dtype) for w in k_layer.weights] == weights


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_quantized_weights_are_created_next_to_the_kernel(mode):
    layer = layers.Dense(units=4)
    layer.build((None, 8))
    layer.to("meta")  # stands for a GPU: the new weights must not land on the default device
    layer.quantize(mode, config=CONFIGS[mode]())
    assert {t.device.type for t in layer.state_dict().values()} == {"meta"}

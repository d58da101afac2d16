"""`keras.distribution.ModelParallel` (FSDP2 `fully_shard`) on 2 gloo processes equals one
process, and what it saves (gathered full tensors, rank 0 writes) loads in one process in every
format, ModelCheckpoint's last save included."""

import numpy as np
import pytest

import keraslike as keras
from tests.distribution._launch import assert_trained_alike, device_params, needs_gpus, run_pair

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=device_params())
def fsdp(tmp_path_factory, request):
    needs_gpus(request.param, 2)  # FSDP2's reduce-scatter on GPUs: NCCL, one GPU per process
    tmp = tmp_path_factory.mktemp(f"fsdp_{request.param}")
    single, ranks = run_pair("+fsdp", tmp, device=request.param)
    single, ranks = single["fsdp"], [r["fsdp"] for r in ranks]
    return single, ranks, tmp / "fsdp_2"


def test_fsdp_fit_evaluate_predict_equal_one_process(fsdp):
    single, ranks, _ = fsdp
    assert ranks[0]["sharded"] and ranks[1]["sharded"] and not single["sharded"]
    assert ranks[0]["param_types"] == ["DTensor"]  # the weights really are sharded
    assert ranks[0]["param_types_after"] == ["DTensor"]  # and sharded again after gathering
    assert_trained_alike(single, ranks)
    for key, value in single["evaluate"].items():
        assert ranks[0]["evaluate"][key] == ranks[1]["evaluate"][key]
        assert ranks[0]["evaluate"][key] == pytest.approx(value, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(ranks[0]["predict"], single["predict"], rtol=1e-5, atol=1e-6)
    assert ranks[0]["slots"] == single["slots"]
    for rank in ranks:  # get_weights on the sharded model gives the whole weights
        for a, b in zip(rank["get_weights_sharded"], rank["weights"]):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("name", ["fsdp.safetensors", "fsdp.keras", "fsdp.weights.h5", "ckpt.safetensors"])
def test_fsdp_save_loads_in_one_process(fsdp, name):
    single, _, out = fsdp
    path = out / f"2_{name}"
    assert path.exists()
    if name.endswith(".weights.h5"):
        model = keras.models.load_model(out.parent / "fsdp_1" / "1_fsdp.keras")
        model.load_weights(path)
    else:
        model = keras.models.load_model(path)
        assert int(model.optimizer.iterations) == 21  # the optimizer state came along
    for a, b in zip(model.get_weights(), single["weights"]):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-5)

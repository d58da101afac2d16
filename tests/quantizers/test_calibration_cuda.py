"""GPTQ/AWQ calibration on a CUDA model: same quantized weights as on the CPU, nothing moves."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike.quantizers import AWQConfig, GPTQConfig
from tests.quantizers.calibration_models import SEQ, build_model, tokens


@pytest.mark.cuda
@pytest.mark.parametrize("config_class", [GPTQConfig, AWQConfig])
def test_calibration_on_cuda_matches_cpu(config_class):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    results = []
    for device in ("cpu", "cuda"):
        model, structure = build_model(keraslike)
        if results:
            model.set_weights(results[0][0])
        float_weights = model.get_weights()
        model.to(device)
        config = config_class(tokens(), lambda s: s, num_samples=4, sequence_length=SEQ,
                              group_size=8, quantization_layer_structure=structure)
        model.quantize(config.mode, config=config)
        assert all(t.device.type == device for t in model.state_dict().values())
        x = torch.as_tensor(np.stack([t[0] for t in tokens()[:2]]), device=device)
        results.append((float_weights, model.get_weights(), model(x).detach().cpu().numpy()))
    (_, cpu_weights, cpu_out), (_, gpu_weights, gpu_out) = results
    for a, b in zip(cpu_weights, gpu_weights):
        if a.dtype == np.uint8:  # quantized values: a rounding tie may land one level apart
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 17  # one nibble step
        else:
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(cpu_out, gpu_out, rtol=1e-2, atol=1e-2)

"""The Grad-CAM port (`vision_grad_cam.py`, which trains nothing and so is not in the ports
registry) gives Keras 3's predictions, heatmaps and superimposed images from the same weights."""

import numpy as np
import pytest

import keraslike
from tests.ports import vision_grad_cam

keras = pytest.importorskip("keras")


@pytest.mark.slow
def test_grad_cam_port_gives_keras_heatmaps():
    initial = []
    keras.utils.set_random_seed(0)
    expected = vision_grad_cam.run(keras, on_model=lambda model: initial.append(model.get_weights()))
    result = vision_grad_cam.run(keraslike, on_model=lambda model: model.set_weights(initial[0]))
    assert sorted(result) == sorted(expected)
    for name, logs in expected.items():
        assert sorted(result[name]) == sorted(logs)
        for key, value in logs.items():
            np.testing.assert_allclose(result[name][key], value, rtol=1e-4, atol=1e-5, err_msg=f"{name}/{key}")

"""Rescaling builds under a `meta` default device (its scalars are read on the CPU)."""

import torch

from keraslike import layers


def test_rescaling_constructs_and_runs_with_meta_default_device():
    with torch.device("meta"):
        layer = layers.Rescaling(1 / 255, offset=-0.5)
        out = layer(torch.ones(2, 3))
    assert out.device.type == "meta" and tuple(out.shape) == (2, 3)
    assert layers.Rescaling(2.0, 1.0)(torch.ones(1)).item() == 3.0


def test_rescaling_config_numbers_as_keras():
    import numpy as np

    config = layers.Rescaling(np.array(1 / 255), offset=np.array(0.5)).get_config()
    assert config["scale"] == 1 / 255 and config["offset"] == 0.5
    per_channel = layers.Rescaling(np.array([1.0, 2.0, 3.0])).get_config()["scale"]
    assert per_channel == {"class_name": "__numpy__",
                           "config": {"value": [1.0, 2.0, 3.0], "dtype": "float64"}}

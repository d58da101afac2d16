"""`keras.distribution`'s objects in one process: Keras's checks and lookups, and no change to
training without a process group (world size 1 is today's behaviour)."""

import warnings

import numpy as np
import pytest
import torch.distributed as dist

import keraslike as keras
from keraslike import distribution
from keraslike.trainers import distributed as trainer_distributed


def test_device_mesh_checks_like_keras():
    mesh = distribution.DeviceMesh((1,), ["batch"])
    assert mesh.shape == (1,) and mesh.axis_names == ("batch",) and len(mesh.devices) == 1
    with pytest.raises(ValueError, match="same size"):
        distribution.DeviceMesh((1,), ["batch", "model"])
    with pytest.raises(ValueError, match="does not match the number of devices"):
        distribution.DeviceMesh((2,), ["batch"])  # one process here
    with pytest.raises(ValueError, match="cannot be empty"):
        distribution.DeviceMesh((), [])


def test_layout_map_regex_lookup():
    mesh = distribution.DeviceMesh((1, 1), ["batch", "model"], devices=["cpu:0"])
    layout_map = distribution.LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    layout_map[".*dense.*bias"] = ("model",)
    assert layout_map["dense_1/kernel"].axes == (None, "model")
    assert layout_map["dense_1/kernel"].device_mesh is mesh
    assert layout_map["conv2d/kernel"] is None
    layout_map[".*kernel"] = (None, None)
    with pytest.raises(ValueError, match="matches multiple layout"):
        layout_map["dense_1/kernel"]
    with pytest.raises(ValueError, match="already exist"):
        layout_map[".*kernel"] = (None, None)
    with pytest.raises(ValueError, match="Invalid axis names"):
        distribution.TensorLayout(("nope",), mesh)


def test_model_parallel_arguments():
    mesh = distribution.DeviceMesh((1,), ["batch"])
    with pytest.raises(ValueError, match="layout_map"):
        distribution.ModelParallel()
    mp = distribution.ModelParallel(layout_map=distribution.LayoutMap(mesh))
    assert mp.batch_dim_name == "batch" and mp.device_mesh is mesh
    with pytest.raises(ValueError, match="Expected a `DataParallel` or `ModelParallel`"):
        distribution.set_distribution("fsdp")
    assert distribution.get_device_count("cpu") == 1


def test_model_parallel_without_process_group_trains_as_today():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    results = []
    for chosen in (None, distribution.ModelParallel(
            layout_map=distribution.LayoutMap(distribution.DeviceMesh((1,), ["batch"])))):
        distribution.set_distribution(chosen)
        try:
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
            model.set_weights([np.ones((4, 1), "float32"), np.zeros(1, "float32")])
            model.compile(keras.optimizers.SGD(0.1), "mse")
            model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
            assert not distribution.is_sharded(model)
            results.append(model.get_weights())
        finally:
            distribution.set_distribution(None)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_torchrun_without_process_group_warns_once(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(trainer_distributed, "_WARNED_NO_GROUP", [])
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    with pytest.warns(UserWarning, match="keras.distribution.initialize"):
        model.fit(x, y, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, verbose=0)  # once per process


def test_process_group_of_one_trains_as_today(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4)).astype("float32")
    y = rng.normal(size=(20, 1)).astype("float32")

    def train():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.set_weights([np.ones((4, 1), "float32"), np.zeros(1, "float32")])
        model.compile(keras.optimizers.Adam(0.1), "mse", metrics=["mae"])
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)  # shuffled
        return model.get_weights(), history.history, model.predict(x, verbose=0)

    expected = train()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        assert not distribution.is_distributed()
        got = train()
    finally:
        dist.destroy_process_group()
    for a, b in zip(expected[0], got[0]):
        np.testing.assert_array_equal(a, b)
    assert expected[1] == got[1]
    np.testing.assert_array_equal(expected[2], got[2])

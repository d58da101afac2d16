"""A chain of conv / pool / BatchNorm layers keeps activations channels_last in memory (no
NHWC <-> NCHW copies between layers) and computes what torch's NCHW kernels compute."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from torch.utils._python_dispatch import TorchDispatchMode

import keraslike as keras
from keraslike import layers


class _OpLog(TorchDispatchMode):
    """Records the aten ops a forward runs."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func.overloadpacket.__name__))
        return func(*args, **(kwargs or {}))


def _chain():
    inputs = keras.Input(shape=(12, 12, 3))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = layers.Conv2D(6, 1, name="c2")(x)
    x = layers.AveragePooling2D(2, name="avg")(x)
    return keras.Model(inputs, x)


def _reference(model, x_nchw):
    """The same network with torch's functional ops on a contiguous NCHW tensor."""
    c1, bn, dw, c2 = (model.get_layer(n) for n in ("c1", "bn", "dw", "c2"))
    x = F.relu(F.conv2d(x_nchw, c1.weight, c1.bias, padding=1))
    x = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.epsilon)
    x = F.max_pool2d(x, 2)
    x = F.conv2d(x, dw.weight, dw.bias, padding=1, groups=x.shape[1])
    x = F.conv2d(x, c2.weight, c2.bias)
    return F.avg_pool2d(x, 2)


@pytest.mark.parametrize("batch", [1, 3])
def test_chain_keeps_channels_last_strides_and_numbers(batch):
    model = _chain()
    with torch.no_grad():
        bn = model.get_layer("bn")
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(batch, 12, 12, 3, generator=torch.Generator().manual_seed(0))
    outputs = {}
    hooks = [
        model.get_layer(name).register_forward_hook(
            lambda module, args, out, name=name: outputs.__setitem__(name, out)
        )
        for name in ("c1", "bn", "pool", "dw", "c2", "avg")
    ]
    with torch.no_grad():
        got = model(x)
    for handle in hooks:
        handle.remove()
    for name, out in outputs.items():
        # NHWC contiguous == its NCHW view is channels_last: no layout copy between layers.
        assert out.is_contiguous(), name
        assert out.permute(0, 3, 1, 2).is_contiguous(memory_format=torch.channels_last), name
    with torch.no_grad():
        expected = _reference(model, x.permute(0, 3, 1, 2).contiguous()).permute(0, 2, 3, 1)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    with torch.no_grad(), _OpLog() as log:
        model(x)
    copies = [op for op in log.ops if op in ("clone", "copy_", "_to_copy", "contiguous")]
    assert not copies, log.ops  # layouts agree: no copy anywhere in the chain


def test_training_step_keeps_channels_last():
    model = _chain()
    model.train()
    x = torch.randn(2, 12, 12, 3)
    out = model(x, training=True)
    assert out.is_contiguous()
    out.sum().backward()
    assert all(p.grad is not None for p in model.trainable_weights)

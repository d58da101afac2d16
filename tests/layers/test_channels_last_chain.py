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


def _three_convs():
    inputs = keras.Input(shape=(6, 6, 3))
    x = layers.Conv2D(4, 3, name="c")(inputs)
    x = layers.DepthwiseConv2D(3, name="dw")(x)
    x = layers.SeparableConv2D(5, 1, name="sep")(x)
    model = keras.Model(inputs, x)
    kernels = [model.get_layer("c").weight, model.get_layer("dw").weight,
               model.get_layer("sep").depthwise_weight, model.get_layer("sep").pointwise_weight]  # fmt: skip
    return model, kernels


def test_kernels_are_contiguous_so_torch_tools_take_the_state_dict(tmp_path):
    # Contiguous at rest, as any torch module: safetensors' save_file, parameters_to_vector
    # and FSDP2 refuse channels_last (non-contiguous) parameters.
    from safetensors.torch import load_file, save_file

    model, kernels = _three_convs()
    assert all(kernel.is_contiguous() for kernel in kernels)
    path = str(tmp_path / "sd.safetensors")
    save_file(model.state_dict(), path)
    torch.testing.assert_close(load_file(path), dict(model.state_dict()))
    vector = torch.nn.utils.parameters_to_vector(model.parameters())
    assert vector.numel() == model.count_params()


def test_model_to_channels_last_restrides_kernels_and_keeps_numbers(tmp_path):
    # The hand-written module's switch, `module.to(memory_format=torch.channels_last)`, works
    # the same: the kernels take channels_last strides (torch's CPU/cuDNN convolutions then
    # skip converting them at every call) and nothing else changes.
    model, _ = _three_convs()
    x = torch.randn(2, 6, 6, 3)
    expected = model(x)
    model.to(memory_format=torch.channels_last)
    kernels = [model.get_layer("c").weight, model.get_layer("dw").weight,
                         model.get_layer("sep").depthwise_weight, model.get_layer("sep").pointwise_weight]  # fmt: skip
    for kernel in kernels:  # torch's own channels_last strides, also where a dim is 1
        assert kernel.stride() == torch.empty_like(kernel, memory_format=torch.channels_last).stride()
    assert not model.get_layer("c").weight.is_contiguous()  # (4, 3, 3, 3): the formats differ
    torch.testing.assert_close(model(x), expected)
    values = [np.random.default_rng(i).normal(size=w.shape).astype("float32") for i, w in enumerate(model.get_weights())]
    model.set_weights(values)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    assert model.get_layer("c").weight.is_contiguous(memory_format=torch.channels_last)
    expected = model(x)
    for name in ("m.safetensors", "m.keras"):
        path = str(tmp_path / name)
        model.save(path)
        torch.testing.assert_close(keras.saving.load_model(path)(x), expected)
    conv = torch.nn.Conv2d(3, 4, 3)
    conv.load_state_dict({k: v for k, v in model.get_layer("c").state_dict().items()})
    torch.testing.assert_close(
        conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), model.get_layer("c")(x)
    )  # the state_dict loads straight into the torch module


def test_channels_first_layers_keep_contiguous_kernels():
    conv = layers.Conv2D(4, 3, data_format="channels_first")
    conv.build((None, 3, 6, 6))
    assert conv.weight.is_contiguous()


@pytest.mark.cuda
def test_channels_last_kernels_on_cuda_give_the_cpu_numbers():
    model = _chain()
    x = torch.randn(2, 12, 12, 3)
    with torch.no_grad():
        expected = model(x)
        model.to("cuda", memory_format=torch.channels_last)
        assert model.get_layer("c1").weight.is_contiguous(memory_format=torch.channels_last)
        got = model(x.to("cuda")).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-4)  # TF32 convolutions allowed

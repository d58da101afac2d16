"""ResNet50V2 and EfficientNetB0 written by hand in plain PyTorch, for scripts/bench_applications.py.

What a PyTorch user would write for the same network: `nn.Conv2d` / `nn.BatchNorm2d` /
`nn.Linear` on NCHW tensors in channels_last memory (torchvision's style), a symmetric
`ZeroPadding2D` + "valid" convolution written as the convolution's `padding=`, an asymmetric
one as `F.pad`, the input normalization folded into one multiply-add. The weights are the
keraslike model's (copies), so outputs can be compared; `build(model)` returns the
module for a model of either architecture, taking NHWC inputs like the keraslike model.
"""

import torch
import torch.nn.functional as F
from torch import nn


def _copy(tensor, parameter=True):
    # A copy: `.to(memory_format=...)` below must not touch the keraslike model's tensors.
    if tensor is None:
        return None
    tensor = tensor.detach().clone()
    return nn.Parameter(tensor, requires_grad=False) if parameter else tensor


def _conv(layer, padding=0):
    """An `nn.Conv2d` holding a keraslike Conv2D/DepthwiseConv2D layer's weights."""
    weight = layer.weight
    groups = layer.groups if hasattr(layer, "groups") else layer._groups
    conv = nn.Conv2d(
        weight.shape[1] * groups, weight.shape[0], tuple(weight.shape[2:]), tuple(layer.strides),
        padding, groups=groups, bias=layer.bias is not None,
    )  # fmt: skip
    conv.weight = _copy(layer.weight)
    conv.bias = _copy(layer.bias)
    return conv


def _bn(layer):
    bn = nn.BatchNorm2d(layer.weight.shape[0], eps=layer.epsilon)
    bn.weight, bn.bias = _copy(layer.weight), _copy(layer.bias)
    bn.running_mean, bn.running_var = _copy(layer.running_mean, False), _copy(layer.running_var, False)
    return bn


def _linear(layer):
    linear = nn.Linear(layer.weight.shape[1], layer.weight.shape[0])
    linear.weight, linear.bias = _copy(layer.weight), _copy(layer.bias)
    return linear


def _same(layer):
    """torch's padding for a stride-1 "same" convolution (odd kernels: symmetric)."""
    return tuple(k // 2 for k in layer.kernel_size) if layer.padding == "same" else 0


class _PreactBlock(nn.Module):
    def __init__(self, model, name):
        super().__init__()
        get = model.get_layer
        self.preact_bn = _bn(get(f"{name}_preact_bn"))
        names = {layer.name for layer in model.layers}
        self.shortcut = _conv(get(f"{name}_0_conv")) if f"{name}_0_conv" in names else None
        self.conv1, self.bn1 = _conv(get(f"{name}_1_conv")), _bn(get(f"{name}_1_bn"))
        self.conv2, self.bn2 = _conv(get(f"{name}_2_conv"), padding=1), _bn(get(f"{name}_2_bn"))
        self.conv3 = _conv(get(f"{name}_3_conv"))
        self.stride = self.conv2.stride[0]

    def forward(self, x):
        preact = F.relu(self.preact_bn(x))
        if self.shortcut is not None:
            shortcut = self.shortcut(preact)
        else:
            shortcut = F.max_pool2d(x, 1, self.stride) if self.stride > 1 else x
        y = F.relu(self.bn1(self.conv1(preact)))
        y = F.relu(self.bn2(self.conv2(y)))
        return shortcut + self.conv3(y)


class ResNet50V2(nn.Module):
    def __init__(self, model):
        super().__init__()
        get = model.get_layer
        self.conv1 = _conv(get("conv1_conv"), padding=3)
        names = [layer.name[: -len("_preact_bn")] for layer in model.layers if layer.name.endswith("_preact_bn")]
        self.blocks = nn.Sequential(*[_PreactBlock(model, n) for n in names])
        self.post_bn = _bn(get("post_bn"))
        self.fc = _linear(get("predictions"))

    def forward(self, x):
        x = self.conv1(x.permute(0, 3, 1, 2))  # NHWC -> NCHW view (channels_last memory)
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
        x = F.relu(self.post_bn(self.blocks(x)))
        return F.softmax(self.fc(x.mean((2, 3))), dim=-1)


class _MBConv(nn.Module):
    def __init__(self, model, name):
        super().__init__()
        names = {layer.name for layer in model.layers}
        get = model.get_layer
        self.expand = None
        if f"{name}expand_conv" in names:
            self.expand = nn.Sequential(_conv(get(f"{name}expand_conv")), _bn(get(f"{name}expand_bn")), nn.SiLU())
        self.pad = get(f"{name}dwconv_pad")._flat[2:] if f"{name}dwconv_pad" in names else None
        dw = get(f"{name}dwconv")
        self.dwconv, self.bn = _conv(dw, _same(dw)), _bn(get(f"{name}bn"))
        self.se_reduce, self.se_expand = _conv(get(f"{name}se_reduce")), _conv(get(f"{name}se_expand"))
        self.project = nn.Sequential(_conv(get(f"{name}project_conv")), _bn(get(f"{name}project_bn")))
        self.residual = f"{name}add" in names

    def forward(self, inputs):
        x = self.expand(inputs) if self.expand is not None else inputs
        if self.pad is not None:
            x = F.pad(x, self.pad)
        x = F.silu(self.bn(self.dwconv(x)))
        s = x.mean((2, 3), keepdim=True)
        x = x * torch.sigmoid(self.se_expand(F.silu(self.se_reduce(s))))
        x = self.project(x)
        return x + inputs if self.residual else x


class EfficientNetB0(nn.Module):
    def __init__(self, model):
        super().__init__()
        get = model.get_layer
        norm, rescale = get("normalization"), get("rescaling")
        std = torch.clamp(torch.sqrt(norm.variance), min=1e-7).reshape(-1, 1, 1)
        self.register_buffer("scale", (float(rescale.scale) / std).reshape(1, -1, 1, 1))
        self.register_buffer("shift", (-norm.mean.reshape(-1, 1, 1) / std).reshape(1, -1, 1, 1))
        self.stem_pad = get("stem_conv_pad")._flat[2:]
        self.stem = nn.Sequential(_conv(get("stem_conv")), _bn(get("stem_bn")), nn.SiLU())
        names = sorted({layer.name.split("_")[0] + "_" for layer in model.layers if layer.name.startswith("block")})
        self.blocks = nn.Sequential(*[_MBConv(model, n) for n in names])
        self.top = nn.Sequential(_conv(get("top_conv")), _bn(get("top_bn")), nn.SiLU())
        self.fc = _linear(get("predictions"))

    def forward(self, x):
        x = torch.addcmul(self.shift, x.permute(0, 3, 1, 2), self.scale)  # NHWC -> NCHW view
        x = self.top(self.blocks(self.stem(F.pad(x, self.stem_pad))))
        return F.softmax(self.fc(x.mean((2, 3))), dim=-1)


BUILDERS = {"ResNet50V2": ResNet50V2, "EfficientNetB0": EfficientNetB0}


def build(name, model):
    """The hand-written module of application `name` sharing `model`'s weights, or None."""
    builder = BUILDERS.get(name)
    if builder is None:
        return None
    return builder(model).to(memory_format=torch.channels_last).eval()

"""Imports torchvision's VGG weights into the Keras-architecture VGG16/VGG19.

torchvision's `vgg16`/`vgg19` (without batch norm) have the same convolutions and dense layers
as Keras's, in the same order. Three things differ and are converted here:

- conv kernels: torch `(out, in, kh, kw)` -> Keras `(kh, kw, in, out)`;
- dense kernels: torch `(out, in)` -> Keras `(in, out)`;
- `fc1`'s input order: torchvision flattens the last feature map channels-first `(C, H, W)`,
  Keras flattens it channels-last `(H, W, C)`, so fc1's input rows are permuted.

torchvision's `AdaptiveAvgPool2d((7, 7))` is the identity at the 224x224 input the top needs.
The imported model expects torchvision's preprocessing, not Keras's "caffe" one: RGB, scaled to
[0, 1], normalized with ImageNet's mean and std, i.e.
`imagenet_utils.preprocess_input(x, mode="torch")`.

torchvision itself is never imported here: pass its module or `state_dict()`.
"""

import re

import numpy as np
import torch

_CONVS = {"VGG16": 13, "VGG19": 16}


def _indexed(state_dict, prefix):
    """`{index: (weight, bias)}` for keys `prefix.<index>.weight/bias`, ordered by index."""
    found = {}
    for key, value in state_dict.items():
        m = re.fullmatch(rf"{prefix}\.(\d+)\.(weight|bias)", key)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [(found[i]["weight"], found[i]["bias"]) for i in sorted(found)]


def _numpy(t):
    return t.detach().cpu().float().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, np.float32)


def nchw_flatten_to_nhwc(kernel, channels, height, width):
    """Reorders a torch dense weight `(out, C*H*W)` fed by a channels-first flatten into the
    Keras kernel `(H*W*C, out)` fed by a channels-last flatten."""
    out = kernel.shape[0]
    return kernel.reshape(out, channels, height, width).transpose(0, 2, 3, 1).reshape(out, -1).T


def vgg_from_torchvision(builder, module_or_state_dict, include_top, input_shape, pooling, name):
    """Builds `builder(weights=None, ...)` and copies a torchvision VGG's weights into it.

    Args:
        builder: `VGG16` or `VGG19`.
        module_or_state_dict: torchvision's `vgg16()`/`vgg19()` module, or its `state_dict()`.
        include_top: Whether to import the classifier too (input is then 224x224).
        input_shape: Input shape when `include_top` is False.
        pooling: `None`, `"avg"` or `"max"` when `include_top` is False.
        name: The model's name.

    Returns:
        The Keras-architecture model, in eval mode.

    Raises:
        ValueError: When the state dict's layers do not match the architecture.
    """
    state = module_or_state_dict
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    convs = _indexed(state, "features")
    dense = _indexed(state, "classifier")
    expected = _CONVS[builder.__name__]
    if any(k.endswith("running_mean") for k in state) or len(convs) != expected:
        raise ValueError(
            f"The state dict holds {len(convs)} convolutions; {builder.__name__} (without batch norm) "
            f"has {expected}. Pass torchvision's plain `vgg16`/`vgg19`, not a `_bn` variant."
        )
    classes = int(dense[-1][0].shape[0]) if include_top and dense else 1000
    model = builder(
        include_top=include_top,
        weights=None,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        name=name,
    )
    conv_layers = [layer for layer in model.layers if layer.name.startswith("block") and "conv" in layer.name]
    for layer, (w, b) in zip(conv_layers, convs):
        layer.set_weights([_numpy(w).transpose(2, 3, 1, 0), _numpy(b)])
    if include_top:
        if len(dense) != 3:
            raise ValueError(f"Expected 3 dense layers under `classifier`; found {len(dense)}.")
        last_conv = conv_layers[-1]
        channels = last_conv.filters
        side = model.get_layer("flatten").input.shape[1]  # 7 at 224x224
        fc1_w = nchw_flatten_to_nhwc(_numpy(dense[0][0]), channels, side, side)
        model.get_layer("fc1").set_weights([fc1_w, _numpy(dense[0][1])])
        model.get_layer("fc2").set_weights([_numpy(dense[1][0]).T, _numpy(dense[1][1])])
        model.get_layer("predictions").set_weights([_numpy(dense[2][0]).T, _numpy(dense[2][1])])
    return model

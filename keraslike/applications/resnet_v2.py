"""ResNet50V2, ResNet101V2 and ResNet152V2 (pre-activation ResNets), layer for layer as in Keras 3.

Reference: [Identity Mappings in Deep Residual Networks](https://arxiv.org/abs/1603.05027)
(ECCV 2016). Each block starts with BatchNorm + ReLU; the stride sits in the last block of a
stack, on the 3x3 convolution, with a 1x1 max-pool as the identity shortcut's downsampling.
"""

import functools

from keraslike import layers
from keraslike.applications import _builder, imagenet_utils

_WEIGHTS_URL = _builder.KERAS_APPS_URL + "resnet/"
_EPS = 1.001e-5


def _bn(name):
    return layers.BatchNormalization(axis=_builder.bn_axis(), epsilon=_EPS, name=name)


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """One pre-activation bottleneck block (output `4 * filters` channels).

    Args:
        x: Input tensor.
        filters: Filters of the bottleneck layers.
        kernel_size: Kernel size of the middle convolution.
        stride: Stride of the middle convolution (and of the shortcut).
        conv_shortcut: A 1x1 projection shortcut if True, else the identity (max-pooled by
            `stride`).
        name: Prefix of the block's layer names.

    Returns:
        The block's output tensor.
    """
    preact = _bn(f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = _bn(f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = _bn(f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    """`blocks` pre-activation blocks: the first projects, the last strides by `stride1`."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def ResNetV2(
    blocks_per_stack,
    weights_name,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnetv2",
):
    """Builds a ResNet v2 with `blocks_per_stack` blocks in stacks conv2..conv5.

    `weights_name` (`"resnet50v2"`, ...) names Keras's pretrained files. Other arguments as in
    `ResNet50V2`.
    """
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    img_input, path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, weights_file=file_name, weights_url=_WEIGHTS_URL + file_name,
        what=name,
    )  # fmt: skip
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stack, (filters, blocks) in enumerate(zip((64, 128, 256, 512), blocks_per_stack), start=2):
        x = stack_residual_blocks_v2(x, filters, blocks, stride1=1 if stack == 5 else 2, name=f"conv{stack}")
    x = _bn("post_bn")(x)
    x = layers.Activation("relu", name="post_relu")(x)
    x = _builder.classifier_top(x, include_top, pooling, classes, classifier_activation)
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


_ABOUT = """The default input size is 224x224 (at least 32x32). Expects inputs preprocessed with
    `keras.applications.resnet_v2.preprocess_input` (scaled to [-1, 1])."""


def _variant(public_name, weights_name, blocks_per_stack):
    build = functools.partial(ResNetV2, blocks_per_stack, weights_name)
    doc = _builder.model_doc(public_name, _ABOUT)
    return _builder.standard_variant(public_name, weights_name, build, __name__, doc)


ResNet50V2 = _variant("ResNet50V2", "resnet50v2", (3, 4, 6, 3))
ResNet101V2 = _variant("ResNet101V2", "resnet101v2", (3, 4, 23, 3))
ResNet152V2 = _variant("ResNet152V2", "resnet152v2", (3, 8, 36, 3))


def preprocess_input(x, data_format=None):
    """Preprocesses images for ResNetV2: scales pixels from [0, 255] to [-1, 1].

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"tf"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

"""ResNet50, ResNet101 and ResNet152 (v1), layer for layer as in Keras 3.

Reference: [Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)
(CVPR 2015). Keras's v1 block puts the stride in the first 1x1 convolution and gives every
convolution a bias; torchvision's ResNet ("v1.5") strides the 3x3 convolution instead, so its
weights compute a different function here and no torchvision import is offered.
"""

import functools

from keraslike import layers
from keraslike.applications import _builder, imagenet_utils

_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_BN_EPSILON = 1.001e-5


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """One bottleneck block: 1x1 (strided) -> kxk -> 1x1 (x4 filters), plus the shortcut.

    Args:
        x: Input tensor.
        filters: Filters of the bottleneck layers (the block outputs `4 * filters`).
        kernel_size: Kernel size of the middle convolution.
        stride: Stride of the first convolution (and of the projection shortcut).
        conv_shortcut: Projection shortcut (1x1 conv + BN) if True, identity otherwise.
        name: Prefix of the block's layer names.

    Returns:
        The block's output tensor.
    """
    bn_axis = _builder.bn_axis()
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """`blocks` residual blocks; the first projects and strides by `stride1`."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def ResNet(
    blocks_per_stack,
    weights_name,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet",
):
    """Builds a ResNet v1 with `blocks_per_stack` blocks in stacks conv2..conv5.

    `weights_name` (`"resnet50"`, ...) names Keras's pretrained files. Other arguments as in
    `ResNet50`.
    """
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    img_input, imagenet_path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, weights_file=file_name, weights_url=_WEIGHTS_URL + file_name,
        what=name,
    )  # fmt: skip

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=_builder.bn_axis(), epsilon=_BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    for stack, (filters, blocks) in enumerate(zip((64, 128, 256, 512), blocks_per_stack), start=2):
        x = stack_residual_blocks_v1(x, filters, blocks, stride1=1 if stack == 2 else 2, name=f"conv{stack}")

    x = _builder.classifier_top(x, include_top, pooling, classes, classifier_activation)
    return _builder.finish(input_tensor, img_input, x, name, weights, imagenet_path)


_ABOUT = """The default input size is 224x224 (at least 32x32). Expects inputs preprocessed with
    `keras.applications.resnet.preprocess_input` (RGB to BGR, ImageNet mean subtracted)."""


def _variant(public_name, weights_name, blocks_per_stack):
    build = functools.partial(ResNet, blocks_per_stack, weights_name)
    doc = _builder.model_doc(public_name, _ABOUT)
    return _builder.standard_variant(public_name, weights_name, build, __name__, doc)


ResNet50 = _variant("ResNet50", "resnet50", (3, 4, 6, 3))
ResNet101 = _variant("ResNet101", "resnet101", (3, 4, 23, 3))
ResNet152 = _variant("ResNet152", "resnet152", (3, 8, 36, 3))


def preprocess_input(x, data_format=None):
    """Preprocesses images for ResNet: RGB to BGR, then ImageNet's channel means subtracted.

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"caffe"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

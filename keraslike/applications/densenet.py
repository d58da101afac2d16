"""DenseNet121, DenseNet169 and DenseNet201, layer for layer as in Keras 3.

Reference: [Densely Connected Convolutional Networks](https://arxiv.org/abs/1608.06993)
(CVPR 2017). Each dense block concatenates 32 new channels per layer onto its input; transition
blocks halve the channels (1x1 convolution) and the resolution (2x2 average pooling).
"""

import functools

from keraslike import layers
from keraslike.applications import _builder, imagenet_utils
from keraslike.backend import config

_WEIGHTS_URL = _builder.KERAS_APPS_URL + "densenet/"
_EPS = 1.001e-5
_BLOCKS = {"densenet121": (6, 12, 24, 16), "densenet169": (6, 12, 32, 32), "densenet201": (6, 12, 48, 32)}


def _bn(name):
    return layers.BatchNormalization(axis=_builder.bn_axis(), epsilon=_EPS, name=name)


def conv_block(x, growth_rate, name):
    """BN-ReLU-1x1 conv (4 * growth_rate) - BN-ReLU-3x3 conv (growth_rate), concatenated onto `x`."""
    x1 = _bn(f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = _bn(f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=_builder.bn_axis(), name=f"{name}_concat")([x, x1])


def dense_block(x, blocks, name):
    """`blocks` conv blocks of growth rate 32."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU, a 1x1 convolution to `reduction` times the channels, 2x2 average pooling."""
    x = _bn(f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    channels = x.shape[_builder.bn_axis()]
    x = layers.Conv2D(int(channels * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def DenseNet(
    blocks,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet",
):
    """Builds a DenseNet with `blocks` (four integers) conv blocks in its dense blocks.

    ImageNet weights exist for the block counts of DenseNet121/169/201. Other arguments as in
    `DenseNet121`.

    Raises:
        ValueError: Under the `channels_first` image data format (as in Keras), and for the
            reasons `DenseNet121` lists.
    """
    if config.image_data_format() == "channels_first":
        raise ValueError(
            "DenseNet does not support the `channels_first` image data format. Switch to "
            "`channels_last` (`keras.config.set_image_data_format('channels_last')`)."
        )
    known = {v: k for k, v in _BLOCKS.items()}.get(tuple(blocks))
    file_name = None
    if known is not None:
        file_name = f"{known}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    img_input, path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, weights_file=file_name,
        weights_url=_WEIGHTS_URL + (file_name or ""), what=name,
    )  # fmt: skip
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for i, count in enumerate(blocks):
        x = dense_block(x, count, name=f"conv{i + 2}")
        if i < 3:
            x = transition_block(x, 0.5, name=f"pool{i + 2}")
    x = _bn("bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = _builder.classifier_top(x, include_top, pooling, classes, classifier_activation)
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


def _variant(public_name, weights_name):
    build = functools.partial(DenseNet, _BLOCKS[weights_name])
    about = """The default input size is 224x224 (at least 32x32); `channels_last` only. Expects inputs
    preprocessed with `keras.applications.densenet.preprocess_input` (scaled to [0, 1], then
    normalized with ImageNet's channel means and standard deviations)."""
    doc = _builder.model_doc(public_name, about, channels_last_only=True)
    return _builder.standard_variant(public_name, weights_name, build, __name__, doc)


DenseNet121 = _variant("DenseNet121", "densenet121")
DenseNet169 = _variant("DenseNet169", "densenet169")
DenseNet201 = _variant("DenseNet201", "densenet201")


def preprocess_input(x, data_format=None):
    """Preprocesses images for DenseNet: scaled to [0, 1], then ImageNet-normalized per channel.

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"torch"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

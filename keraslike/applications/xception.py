"""Xception, layer for layer as in Keras 3.

Reference: [Xception: Deep Learning with Depthwise Separable Convolutions](
https://arxiv.org/abs/1610.02357) (CVPR 2017). Entry flow (blocks 1-4, strided separable
convolutions with 1x1 projection shortcuts), middle flow (blocks 5-12, three separable
convolutions each, identity shortcuts) and exit flow (blocks 13-14). Default input 299x299.
"""

from keraslike import layers
from keraslike.applications import _builder, imagenet_utils

_WEIGHTS_URL = _builder.KERAS_APPS_URL + "xception/"


def _sepconv_bn(x, filters, name, relu_first=True):
    """[ReLU] -> 3x3 SeparableConv2D -> BatchNorm, with Keras's `{name}`, `_act`, `_bn` names."""
    axis = _builder.channel_axis()
    if relu_first:
        x = layers.Activation("relu", name=f"{name}_act")(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=axis, name=f"{name}_bn")(x)


def _projection(x, filters):
    """The unnamed strided 1x1 convolution + BatchNorm shortcut of the entry and exit flows."""
    residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=_builder.channel_axis())(residual)


def Xception(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="xception",
):
    file_name = f"xception_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    img_input, path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, default_size=299, min_size=71, weights_file=file_name,
        weights_url=_WEIGHTS_URL + file_name, what="Xception",
    )  # fmt: skip
    axis = _builder.channel_axis()
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)

    # Entry flow: blocks 2-4 (block 2 starts without a ReLU).
    for block, filters in ((2, 128), (3, 256), (4, 728)):
        residual = _projection(x, filters)
        x = _sepconv_bn(x, filters, f"block{block}_sepconv1", relu_first=block != 2)
        x = _sepconv_bn(x, filters, f"block{block}_sepconv2")
        x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
        x = layers.add([x, residual])

    # Middle flow: blocks 5-12.
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = _sepconv_bn(x, 728, f"block{block}_sepconv{i}")
        x = layers.add([x, residual])

    # Exit flow.
    residual = _projection(x, 1024)
    x = _sepconv_bn(x, 728, "block13_sepconv1")
    x = _sepconv_bn(x, 1024, "block13_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = layers.add([x, residual])
    x = _sepconv_bn(x, 1536, "block14_sepconv1", relu_first=False)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sepconv_bn(x, 2048, "block14_sepconv2", relu_first=False)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    x = _builder.classifier_top(
        x, include_top, pooling, classes, classifier_activation, avg_name=None, max_name=None,
        top_avg_name="avg_pool",
    )  # fmt: skip
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


Xception.__doc__ = _builder.model_doc(
    "Xception",
    """The default input size is 299x299 (at least 71x71). Expects inputs preprocessed with
    `keras.applications.xception.preprocess_input` (scaled to [-1, 1]).""",
    example='model = keras.applications.Xception(weights=None, include_top=False, input_shape=(96, 96, 3))',
)


def preprocess_input(x, data_format=None):
    """Preprocesses images for Xception: scales pixels from [0, 255] to [-1, 1].

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"tf"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

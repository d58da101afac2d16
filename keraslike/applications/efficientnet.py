"""EfficientNetB0 to B7, layer for layer as in Keras 3.

Reference: [EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks](
https://arxiv.org/abs/1905.11946) (ICML 2019). MBConv blocks (expansion, depthwise convolution,
squeeze-and-excitation, projection) scaled in width, depth and resolution per variant. As in
Keras, the input normalization is part of the model (`Rescaling` + `Normalization`, plus a
`Rescaling` by ImageNet's standard deviations with `weights="imagenet"`): feed pixels in
[0, 255]; `preprocess_input` returns its input unchanged.
"""

import copy
import math

from keraslike import initializers, layers
from keraslike.applications import _builder, imagenet_utils

_WEIGHTS_URL = "https://storage.googleapis.com/keras-applications/"
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)

# kernel_size, repeats, filters_in, filters_out, expand_ratio, id_skip, strides, se_ratio
DEFAULT_BLOCKS_ARGS = [
    dict(kernel_size=k, repeats=r, filters_in=fi, filters_out=fo, expand_ratio=e, id_skip=True, strides=s,
         se_ratio=0.25)
    for k, r, fi, fo, e, s in (
        (3, 1, 32, 16, 1, 1),
        (3, 2, 16, 24, 6, 2),
        (5, 2, 24, 40, 6, 2),
        (3, 3, 40, 80, 6, 2),
        (5, 3, 80, 112, 6, 1),
        (5, 4, 112, 192, 6, 2),
        (3, 1, 192, 320, 6, 1),
    )
]  # fmt: skip


def conv_initializer():
    """The convolutions' kernel initializer in EfficientNet (and EfficientNetV2)."""
    return initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="truncated_normal")


def round_repeats(repeats, depth_coefficient):
    """Scales a stage's block count by `depth_coefficient`, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def squeeze_excite(x, filters_in, filters, se_ratio, activation, name):
    """The squeeze-and-excitation of an MBConv block (layers `{name}se_squeeze` ... `se_excite`).

    `filters` channels in `x`; the squeeze has `max(1, int(filters_in * se_ratio))`.
    """
    filters_se = max(1, int(filters_in * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se_shape = (filters, 1, 1) if _builder.bn_axis() == 1 else (1, 1, filters)
    se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
    se = layers.Conv2D(
        filters_se, 1, padding="same", activation=activation, kernel_initializer=conv_initializer(),
        name=f"{name}se_reduce",
    )(se)  # fmt: skip
    se = layers.Conv2D(
        filters, 1, padding="same", activation="sigmoid", kernel_initializer=conv_initializer(),
        name=f"{name}se_expand",
    )(se)  # fmt: skip
    return layers.multiply([x, se], name=f"{name}se_excite")


def _dense_init():
    return initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out", distribution="uniform")


def block(
    inputs,
    activation="swish",
    drop_rate=0.0,
    name="",
    filters_in=32,
    filters_out=16,
    kernel_size=3,
    strides=1,
    expand_ratio=1,
    se_ratio=0.0,
    id_skip=True,
):
    """One MBConv block (inverted residual with squeeze-and-excitation).

    Args:
        inputs: Input tensor.
        activation: Activation of the block.
        drop_rate: Stochastic-depth rate of the residual branch (a per-sample Dropout).
        name: Prefix of the block's layer names.
        filters_in / filters_out: Input and output channels.
        kernel_size: Depthwise kernel size.
        strides: Depthwise stride.
        expand_ratio: Expansion of the input channels.
        se_ratio: Squeeze-and-excitation ratio (of `filters_in`); 0 for none.
        id_skip: Whether to add the residual when shapes allow.

    Returns:
        The block's output tensor.
    """
    bn_axis = _builder.bn_axis()
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(
            filters, 1, padding="same", use_bias=False, kernel_initializer=conv_initializer(),
            name=f"{name}expand_conv",
        )(inputs)  # fmt: skip
        x = layers.BatchNormalization(axis=bn_axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    else:
        x = inputs
    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding="valid" if strides == 2 else "same", use_bias=False,
        depthwise_initializer=conv_initializer(), name=f"{name}dwconv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters_in, filters, se_ratio, activation, name)
    x = layers.Conv2D(
        filters_out, 1, padding="same", use_bias=False, kernel_initializer=conv_initializer(),
        name=f"{name}project_conv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def EfficientNet(
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    activation="swish",
    blocks_args="default",
    name="efficientnet",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """Builds an EfficientNet scaled by `width_coefficient` / `depth_coefficient`.

    `blocks_args` is `"default"` (B0's seven stages) or a list of block dicts; `weights_name`
    (`"b0"`...) marks a variant with published weights (the file is `{name}.h5`). Other arguments
    as in `EfficientNetB0`.
    """
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    file_name = f"{name}{'.h5' if include_top else '_notop.h5'}" if weights_name else None
    img_input, path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, default_size=default_size, weights_file=file_name,
        weights_url=_WEIGHTS_URL + (file_name or ""), what=name,
    )  # fmt: skip
    bn_axis = _builder.bn_axis()

    def round_filters(filters, divisor=depth_divisor):
        filters *= width_coefficient
        new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        if new_filters < 0.9 * filters:  # never round down by more than 10%
            new_filters += divisor
        return int(new_filters)

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # The published weights expect the variance of the (adapted) Normalization applied
        # once more; see Keras's note on tensorflow/tensorflow#49930.
        x = layers.Rescaling([1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        round_filters(32), 3, strides=2, padding="valid", use_bias=False, kernel_initializer=conv_initializer(),
        name="stem_conv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(round_repeats(args["repeats"], depth_coefficient) for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(
                f"The number of repeats in `EfficientNet` must be > 0. Received: repeats={args['repeats']}"
            )
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / blocks, name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = layers.Conv2D(
        round_filters(1280), 1, padding="same", use_bias=False, kernel_initializer=conv_initializer(),
        name="top_conv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(
            classes, activation=classifier_activation, kernel_initializer=_dense_init(), name="predictions"
        )(x)
    else:
        x = _builder.classifier_top(x, False, pooling, classes, classifier_activation)
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


# width, depth, resolution, dropout of B0..B7.
_VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}


def _variant(key):
    width, depth, size, dropout = _VARIANTS[key]

    def build(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
        return EfficientNet(
            width, depth, size, dropout, name=name, include_top=include_top, weights=weights,
            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
            classifier_activation=classifier_activation, weights_name=key,
        )  # fmt: skip

    public_name = f"EfficientNet{key.upper()}"
    about = f"""The default input size is {size}x{size} (at least 32x32). The input normalization is part of
    the model: feed pixels in [0, 255] (`efficientnet.preprocess_input` is the identity)."""
    doc = _builder.model_doc(public_name, about)
    return _builder.standard_variant(public_name, f"efficientnet{key}", build, __name__, doc)


EfficientNetB0 = _variant("b0")
EfficientNetB1 = _variant("b1")
EfficientNetB2 = _variant("b2")
EfficientNetB3 = _variant("b3")
EfficientNetB4 = _variant("b4")
EfficientNetB5 = _variant("b5")
EfficientNetB6 = _variant("b6")
EfficientNetB7 = _variant("b7")


preprocess_input = _builder.unchanged_preprocess_input(
    "EfficientNet models normalize their input themselves", __name__
)


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

"""EfficientNetV2B0-B3, S, M and L, layer for layer as in Keras 3.

Reference: [EfficientNetV2: Smaller Models and Faster Training](https://arxiv.org/abs/2104.00298)
(ICML 2021). Fused-MBConv blocks (a full convolution in place of expansion + depthwise) in the
early stages, MBConv blocks with squeeze-and-excitation later. As in Keras, the input
preprocessing is part of the model (`include_preprocessing=True`): feed pixels in [0, 255];
`preprocess_input` returns its input unchanged. As in Keras, the residual branches' Dropout rate
is the stage's `survival_probability` value.
"""

import copy

from keraslike import initializers, layers
from keraslike.applications import _builder, imagenet_utils
from keraslike.applications.efficientnet import conv_initializer, round_repeats, squeeze_excite

_WEIGHTS_URL = _builder.KERAS_APPS_URL + "efficientnet_v2/"

_KEYS = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio", "se_ratio", "strides",
         "conv_type")  # fmt: skip
_B_BLOCKS = (
    (3, 1, 32, 16, 1, 0, 1, 1),
    (3, 2, 16, 32, 4, 0, 2, 1),
    (3, 2, 32, 48, 4, 0, 2, 1),
    (3, 3, 48, 96, 4, 0.25, 2, 0),
    (3, 5, 96, 112, 6, 0.25, 1, 0),
    (3, 8, 112, 192, 6, 0.25, 2, 0),
)
# Stage tables (conv_type 1: Fused-MBConv, 0: MBConv), keyed by Keras's model names.
_BLOCKS = {
    "efficientnetv2-s": (
        (3, 2, 24, 24, 1, 0.0, 1, 1),
        (3, 4, 24, 48, 4, 0.0, 2, 1),
        (3, 4, 48, 64, 4, 0, 2, 1),
        (3, 6, 64, 128, 4, 0.25, 2, 0),
        (3, 9, 128, 160, 6, 0.25, 1, 0),
        (3, 15, 160, 256, 6, 0.25, 2, 0),
    ),
    "efficientnetv2-m": (
        (3, 3, 24, 24, 1, 0, 1, 1),
        (3, 5, 24, 48, 4, 0, 2, 1),
        (3, 5, 48, 80, 4, 0, 2, 1),
        (3, 7, 80, 160, 4, 0.25, 2, 0),
        (3, 14, 160, 176, 6, 0.25, 1, 0),
        (3, 18, 176, 304, 6, 0.25, 2, 0),
        (3, 5, 304, 512, 6, 0.25, 1, 0),
    ),
    "efficientnetv2-l": (
        (3, 4, 32, 32, 1, 0, 1, 1),
        (3, 7, 32, 64, 4, 0, 2, 1),
        (3, 7, 64, 96, 4, 0, 2, 1),
        (3, 10, 96, 192, 4, 0.25, 2, 0),
        (3, 19, 192, 224, 6, 0.25, 1, 0),
        (3, 25, 224, 384, 6, 0.25, 2, 0),
        (3, 7, 384, 640, 6, 0.25, 1, 0),
    ),
    "efficientnetv2-b0": _B_BLOCKS,
    "efficientnetv2-b1": _B_BLOCKS,
    "efficientnetv2-b2": _B_BLOCKS,
    "efficientnetv2-b3": _B_BLOCKS,
}
DEFAULT_BLOCKS_ARGS = {name: [dict(zip(_KEYS, row)) for row in rows] for name, rows in _BLOCKS.items()}


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Scales `filters` by `width_coefficient`, rounded to a multiple of `depth_divisor`."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def MBConvBlock(
    input_filters,
    output_filters,
    expand_ratio=1,
    kernel_size=3,
    strides=1,
    se_ratio=0.0,
    bn_momentum=0.9,
    activation="swish",
    survival_probability=0.8,
    name=None,
):
    """Returns a function applying an MBConv block (1x1 expansion, depthwise, SE, 1x1 projection)."""
    bn_axis = _builder.bn_axis()

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = layers.Conv2D(
                filters=filters, kernel_size=1, strides=1, kernel_initializer=conv_initializer(), padding="same",
                use_bias=False, name=f"{name}expand_conv",
            )(x)  # fmt: skip
            x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}expand_bn")(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        x = layers.DepthwiseConv2D(
            kernel_size=kernel_size, strides=strides, depthwise_initializer=conv_initializer(), padding="same",
            use_bias=False, name=f"{name}dwconv2",
        )(x)  # fmt: skip
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}bn")(x)
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = layers.Conv2D(
            filters=output_filters, kernel_size=1, strides=1, kernel_initializer=conv_initializer(), padding="same",
            use_bias=False, name=f"{name}project_conv",
        )(x)  # fmt: skip
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}project_bn")(x)
        return _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name)

    return apply


def FusedMBConvBlock(
    input_filters,
    output_filters,
    expand_ratio=1,
    kernel_size=3,
    strides=1,
    se_ratio=0.0,
    bn_momentum=0.9,
    activation="swish",
    survival_probability=0.8,
    name=None,
):
    """Returns a function applying a Fused-MBConv block (one kxk expansion convolution)."""
    bn_axis = _builder.bn_axis()

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = layers.Conv2D(
                filters, kernel_size=kernel_size, strides=strides, kernel_initializer=conv_initializer(),
                padding="same", use_bias=False, name=f"{name}expand_conv",
            )(x)  # fmt: skip
            x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}expand_bn")(x)
            x = layers.Activation(activation=activation, name=f"{name}expand_activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = layers.Conv2D(
            output_filters, kernel_size=1 if expand_ratio != 1 else kernel_size,
            strides=1 if expand_ratio != 1 else strides, kernel_initializer=conv_initializer(), padding="same",
            use_bias=False, name=f"{name}project_conv",
        )(x)  # fmt: skip
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}project_bn")(x)
        if expand_ratio == 1:
            x = layers.Activation(activation=activation, name=f"{name}project_activation")(x)
        return _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name)

    return apply


def EfficientNetV2(
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    min_depth=8,
    bn_momentum=0.9,
    activation="swish",
    blocks_args="default",
    name="efficientnetv2",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    weights_name=None,
    variant=None,
):
    """Builds an EfficientNetV2 from a stage table.

    `blocks_args="default"` takes the table of `variant` (Keras's model name, e.g.
    `"efficientnetv2-b0"`; by default `name`, as in Keras). `weights_name` (`"b0"`, `"-s"`...)
    marks a variant with published weights (the file is `{name}.h5`). Other arguments as in
    `EfficientNetV2B0`.
    """
    variant = name if variant is None else variant
    if blocks_args == "default":
        if variant not in DEFAULT_BLOCKS_ARGS:
            raise ValueError(
                f"No default blocks for an EfficientNetV2 named {variant!r}; expected one of "
                f"{sorted(DEFAULT_BLOCKS_ARGS)} or explicit `blocks_args`."
            )
        blocks_args = DEFAULT_BLOCKS_ARGS[variant]
    file_name = name + (".h5" if include_top else "_notop.h5") if weights_name else None
    img_input, path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, default_size=default_size, weights_file=file_name,
        weights_url=_WEIGHTS_URL + (file_name or ""), what=name,
    )  # fmt: skip
    bn_axis = _builder.bn_axis()

    def filters_of(filters):
        return round_filters(filters, width_coefficient, min_depth, depth_divisor)

    x = img_input
    if include_preprocessing:
        if variant.split("-")[-1].startswith("b") and x.shape[bn_axis] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(
                mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=bn_axis
            )(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = layers.Conv2D(
        filters=filters_of(blocks_args[0]["input_filters"]), kernel_size=3, strides=2,
        kernel_initializer=conv_initializer(), padding="same", use_bias=False, name="stem_conv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError(
                f"The number of repeats in `EfficientNetV2` must be > 0. Received: num_repeat={args['num_repeat']}"
            )
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        block = {0: MBConvBlock, 1: FusedMBConvBlock}[args.pop("conv_type")]
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(
                activation=activation, bn_momentum=bn_momentum, survival_probability=drop_connect_rate * b / blocks,
                name=f"block{i + 1}{chr(j + 97)}_", **args,
            )(x)  # fmt: skip
            b += 1

    x = layers.Conv2D(
        filters=filters_of(1280), kernel_size=1, strides=1, kernel_initializer=conv_initializer(), padding="same",
        use_bias=False, name="top_conv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name="top_bn")(x)
    x = layers.Activation(activation=activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(
            classes, activation=classifier_activation,
            kernel_initializer=initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out", distribution="uniform"),
            bias_initializer=initializers.Constant(0.0), name="predictions",
        )(x)  # fmt: skip
    else:
        x = _builder.classifier_top(x, False, pooling, classes, classifier_activation)
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


_ABOUT = """The default input size is {size}x{size} (at least 32x32). With `include_preprocessing=True`
    (the default) the model normalizes its input itself: feed pixels in [0, 255]."""
_ARGS = _builder.DOC_COMMON_ARGS + """
        include_preprocessing: Whether the model starts with its input normalization."""

# public name suffix: (width, depth, default size, weights_name)
_VARIANTS = {
    "B0": (1.0, 1.0, 224, "b0"),
    "B1": (1.0, 1.1, 240, "b1"),
    "B2": (1.1, 1.2, 260, "b2"),
    "B3": (1.2, 1.4, 300, "b3"),
    "S": (1.0, 1.0, 384, "-s"),
    "M": (1.0, 1.0, 480, "-m"),
    "L": (1.0, 1.0, 480, "-l"),
}


def _variant(suffix):
    width, depth, size, weights_name = _VARIANTS[suffix]
    variant = f"efficientnetv2-{suffix.lower()}"

    def model_fn(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        include_preprocessing=True,
        name=variant,
    ):
        return EfficientNetV2(
            width_coefficient=width, depth_coefficient=depth, default_size=size, name=name,
            include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
            pooling=pooling, classes=classes, classifier_activation=classifier_activation,
            include_preprocessing=include_preprocessing, weights_name=weights_name, variant=variant,
        )  # fmt: skip

    model_fn.__name__ = model_fn.__qualname__ = f"EfficientNetV2{suffix}"
    model_fn.__doc__ = _builder.model_doc(model_fn.__name__, _ABOUT.format(size=size), args=_ARGS)
    return model_fn


EfficientNetV2B0 = _variant("B0")
EfficientNetV2B1 = _variant("B1")
EfficientNetV2B2 = _variant("B2")
EfficientNetV2B3 = _variant("B3")
EfficientNetV2S = _variant("S")
EfficientNetV2M = _variant("M")
EfficientNetV2L = _variant("L")


preprocess_input = _builder.unchanged_preprocess_input(
    "EfficientNetV2 models preprocess their input themselves", __name__
)


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

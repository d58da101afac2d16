"""MobileNetV3Small and MobileNetV3Large, layer for layer as in Keras 3.

Reference: [Searching for MobileNetV3](https://arxiv.org/pdf/1905.02244.pdf) (ICCV 2019).
Inverted residual blocks with optional squeeze-and-excitation and hard-swish activations. As in
Keras, the input rescaling to [-1, 1] is part of the model (`include_preprocessing=True`), so
`preprocess_input` returns its input unchanged, and the input size is free (`(None, None, 3)`)
unless given.
"""

import warnings

from keraslike import layers
from keraslike.applications import _builder, imagenet_utils
from keraslike.backend import config

_WEIGHTS_URL = _builder.KERAS_APPS_URL + "mobilenet_v3/"
_BN = dict(epsilon=1e-3, momentum=0.999)

# (expansion, filters, kernel ("k": the model's kernel), stride, squeeze-excite, activation
# ("relu" or "act": the model's activation)) of each block.
_SMALL = (
    (1, 16, 3, 2, True, "relu"),
    (72.0 / 16, 24, 3, 2, False, "relu"),
    (88.0 / 24, 24, 3, 1, False, "relu"),
    (4, 40, "k", 2, True, "act"),
    (6, 40, "k", 1, True, "act"),
    (6, 40, "k", 1, True, "act"),
    (3, 48, "k", 1, True, "act"),
    (3, 48, "k", 1, True, "act"),
    (6, 96, "k", 2, True, "act"),
    (6, 96, "k", 1, True, "act"),
    (6, 96, "k", 1, True, "act"),
)
_LARGE = (
    (1, 16, 3, 1, False, "relu"),
    (4, 24, 3, 2, False, "relu"),
    (3, 24, 3, 1, False, "relu"),
    (3, 40, "k", 2, True, "relu"),
    (3, 40, "k", 1, True, "relu"),
    (3, 40, "k", 1, True, "relu"),
    (6, 80, 3, 2, False, "act"),
    (2.5, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"),
    (6, 112, 3, 1, True, "act"),
    (6, 112, 3, 1, True, "act"),
    (6, 160, "k", 2, True, "act"),
    (6, 160, "k", 1, True, "act"),
    (6, 160, "k", 1, True, "act"),
)


def _depth(v, divisor=8, min_value=None):
    """Rounds `v` to a multiple of `divisor`, never more than 10% down."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _relu(x):
    return layers.ReLU()(x)


def _hard_sigmoid(x):
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _bn(name):
    return layers.BatchNormalization(axis=_builder.channel_axis(), name=name, **_BN)


def _se_block(inputs, filters, se_ratio, prefix):
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(
        _depth(filters * se_ratio), kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv"
    )(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id):
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[_builder.channel_axis()]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(
            _depth(infilters * expansion), kernel_size=1, padding="same", use_bias=False,
            name=f"{prefix}expand",
        )(x)  # fmt: skip
        x = _bn(f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(
            padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad"
        )(x)
    x = layers.DepthwiseConv2D(
        kernel_size, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
        name=f"{prefix}depthwise",
    )(x)  # fmt: skip
    x = _bn(f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape, input_tensor):
    """Keras's MobileNetV3 rule: no `obtain_input_shape`; free height and width by default."""
    if input_tensor is not None:
        imagenet_utils.image_input(input_tensor, None)  # checks that it is a KerasTensor
        if input_shape is not None:
            axis, index = (1, 1) if config.image_data_format() == "channels_first" else (2, 1)
            if input_tensor.shape[axis] != tuple(input_shape)[index]:
                raise ValueError(
                    f"input_shape[1] must equal input_tensor.shape[{axis}].  Received "
                    f"input_shape={input_shape}, input_tensor.shape={input_tensor.shape}"
                )
        else:
            if config.image_data_format() == "channels_first":
                rows, cols = input_tensor.shape[2], input_tensor.shape[3]
                input_shape = (3, cols, rows)
            else:
                rows, cols = input_tensor.shape[1], input_tensor.shape[2]
                input_shape = (cols, rows, 3)
    if input_shape is None:
        input_shape = (3, None, None) if config.image_data_format() == "channels_first" else (None, None, 3)
    input_shape = tuple(input_shape)
    rows, cols = input_shape[1:3] if config.image_data_format() == "channels_first" else input_shape[:2]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received `input_shape={input_shape}`")
    return input_shape, rows, cols


def MobileNetV3(
    blocks,
    last_point_ch,
    input_shape=None,
    alpha=1.0,
    model_type="large",
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name=None,
):
    """Builds a MobileNetV3 from its block table; arguments as in `MobileNetV3Small`."""
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    imagenet_utils.check_pooling(pooling)
    input_shape, rows, cols = _input_shape(input_shape, input_tensor)
    path = None
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
                "minimalistic or `1.0` for minimalistic only."
            )
        if rows != cols or rows != 224:
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not 224. Weights for input "
                "shape (224, 224) will be loaded as the default.",
                stacklevel=3,
            )
        model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        file_name = f"weights_mobilenet_v3_{model_name}{'' if include_top else '_no_top_v2'}.h5"
        path = imagenet_utils.find_model_file(
            file_name, f"{name}'s ImageNet weights", _WEIGHTS_URL + file_name
        )
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    kernel, activation, se_ratio = (3, _relu, None) if minimalistic else (5, _hard_swish, 0.25)
    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = _bn("conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(
            x, expansion, _depth(filters * alpha), kernel if k == "k" else k, stride,
            se_ratio if se else None, activation if act == "act" else _relu, block_id,
        )  # fmt: skip
    last_conv_ch = _depth(x.shape[_builder.channel_axis()] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="conv_1")(x)
    x = _bn("conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


_ABOUT = """The input rescaling to [-1, 1] is the model's first layer (with the default
    `include_preprocessing=True`): feed pixels in [0, 255]."""
_ARGS = """input_shape: Optional shape tuple (height and width at least 32). By default the
            model takes any size, `(None, None, 3)`.
        alpha: Width multiplier of every layer's filters. Pretrained weights exist for 0.75
            and 1.0 (1.0 only with `minimalistic`).
        minimalistic: Without squeeze-and-excite, hard-swish and 5x5 convolutions.
        include_top: Whether to include the classifier at the top of the network.
        weights: `None` (random initialization), `"imagenet"` (Keras's pretrained file, read from
            `$KERAS_HOME/models` or `~/.keras/models`; never downloaded), or the path to a Keras
            `.h5` / `.weights.h5` weights file.
        input_tensor: Optional KerasTensor (output of `keras.Input()`) to use as image input.
        classes: Number of classes, when `include_top` is True and `weights` is not `"imagenet"`.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        dropout_rate: Dropout rate before the classifier's last convolution.
        classifier_activation: Activation of the top layer (`None` for logits); only `None` or
            `"softmax"` with pretrained weights.
        include_preprocessing: Whether the model starts with the `Rescaling` to [-1, 1].
        name: The model's name."""
_RAISES = """For invalid `weights`, `classes`, `alpha`, `input_shape`, `input_tensor` or
            `classifier_activation`, or when the ImageNet weights file is not on this machine."""
_EXAMPLE = "model = keras.applications.{model}(weights=None, input_shape=(96, 96, 3), classes=10)"


def MobileNetV3Small(
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Small",
):
    return MobileNetV3(
        _SMALL, 1024, input_shape, alpha, "small", minimalistic, include_top, weights, input_tensor,
        classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name=name,
    )  # fmt: skip


def MobileNetV3Large(
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Large",
):
    return MobileNetV3(
        _LARGE, 1280, input_shape, alpha, "large", minimalistic, include_top, weights, input_tensor,
        classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name=name,
    )  # fmt: skip


for _fn in (MobileNetV3Small, MobileNetV3Large):
    _fn.__doc__ = _builder.model_doc(
        _fn.__name__, _ABOUT, args=_ARGS, raises=_RAISES, example=_EXAMPLE.format(model=_fn.__name__)
    )


preprocess_input = _builder.unchanged_preprocess_input(
    "MobileNetV3 models rescale their input themselves", __name__
)


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

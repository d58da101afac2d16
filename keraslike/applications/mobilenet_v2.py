"""MobileNetV2, layer for layer as in Keras 3.

Reference: [MobileNetV2: Inverted Residuals and Linear Bottlenecks](https://arxiv.org/abs/1801.04381)
(CVPR 2018).
"""

import warnings

from keraslike import layers
from keraslike.applications import imagenet_utils
from keraslike.backend import config
from keraslike.models import Model

_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_SIZES = (96, 128, 160, 192, 224)
_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
# (filters, stride, expansion) of blocks 0..16.
_BLOCKS = (
    (16, 1, 1),
    (24, 2, 6), (24, 1, 6),
    (32, 2, 6), (32, 1, 6), (32, 1, 6),
    (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
    (96, 1, 6), (96, 1, 6), (96, 1, 6),
    (160, 2, 6), (160, 1, 6), (160, 1, 6),
    (320, 1, 6),
)  # fmt: skip


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # rounding down must not lose more than 10%
        new_v += divisor
    return new_v


def _bn(name):
    axis = 1 if config.image_data_format() == "channels_first" else -1
    return layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    channel_axis = 1 if config.image_data_format() == "channels_first" else -1
    in_channels = inputs.shape[channel_axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(
            expansion * in_channels, kernel_size=1, padding="same", use_bias=False, activation=None,
            name=f"{prefix}expand",
        )(x)  # fmt: skip
        x = _bn(f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size=3, strides=stride, activation=None, use_bias=False,
        padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise",
    )(x)  # fmt: skip
    x = _bn(f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(
        pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
        name=f"{prefix}project",
    )(x)  # fmt: skip
    x = _bn(f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _default_size(input_shape, input_tensor):
    """Keras's rule: a square input of a size with pretrained weights keeps it, else 224."""
    if input_shape is None and input_tensor is None:
        return 224
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) != 3:
            return 224  # obtain_input_shape reports the bad shape
        rows, cols = shape[1:3] if config.image_data_format() == "channels_first" else shape[:2]
    else:
        shape = input_tensor.shape
        rows, cols = shape[2:4] if config.image_data_format() == "channels_first" else shape[1:3]
    return rows if rows == cols and rows in _SIZES else 224


def MobileNetV2(
    input_shape=None,
    alpha=1.0,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """Instantiates the MobileNetV2 architecture (Keras 3's layers, names and weight order).

    Expects inputs preprocessed with `keras.applications.mobilenet_v2.preprocess_input`
    (scaled to [-1, 1]).

    Args:
        input_shape: Optional shape tuple (height and width at least 32); a square 96, 128, 160,
            192 or 224 input selects the matching pretrained weights.
        alpha: Width multiplier: below 1 shrinks, above 1 widens every layer's filters.
            Pretrained weights exist for 0.35, 0.5, 0.75, 1.0, 1.3 and 1.4.
        include_top: Whether to include the classifier at the top.
        weights: `None` (random initialization), `"imagenet"` (Keras's pretrained file, read from
            `$KERAS_HOME/models` or `~/.keras/models`; never downloaded), or the path to a Keras
            `.h5` / `.weights.h5` weights file.
        input_tensor: Optional KerasTensor (output of `keras.Input()`) to use as image input.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        classes: Number of classes, when `include_top` is True and `weights` is not `"imagenet"`.
        classifier_activation: Activation of the top layer (`None` for logits); only `None` or
            `"softmax"` with pretrained weights.
        name: The model's name; by default `mobilenetv2_{alpha:.2f}_{rows}`.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: For invalid `weights`, `classes`, `alpha`, `input_shape`, `input_tensor` or
            `classifier_activation`, or when the ImageNet weights file is not on this machine.

    Example:

    ```python
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35)
    ```
    """
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    imagenet_utils.check_pooling(pooling)
    if input_tensor is not None:
        imagenet_utils.image_input(input_tensor, None)  # checks that it is a KerasTensor
    if input_shape is not None and input_tensor is not None:
        axis = 1 if config.image_data_format() == "channels_first" else 2
        if input_tensor.shape[axis] != tuple(input_shape)[1]:
            raise ValueError(
                f"input_tensor.shape[{axis}] must equal input_shape[1]; Received "
                f"`input_tensor.shape={input_tensor.shape}`, `input_shape={input_shape}`"
            )
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=_default_size(input_shape, input_tensor),
        min_size=32,
        data_format=config.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    rows, cols = input_shape[1:3] if config.image_data_format() == "channels_first" else input_shape[:2]

    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_path = None
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise ValueError(
                "If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, "
                f"`0.75`, `1.0`, `1.3` or `1.4` only; Received `alpha={alpha}`"
            )
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not in "
                "[96, 128, 160, 192, 224]. Weights for input shape (224, 224) will be loaded as "
                "the default.",
                stacklevel=2,
            )
        suffix = f"_{float(alpha)}_{rows}.h5" if include_top else f"_{float(alpha)}_{rows}_no_top.h5"
        file_name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels" + suffix
        imagenet_path = imagenet_utils.find_model_file(
            file_name, "MobileNetV2's ImageNet weights", _WEIGHTS_URL + file_name
        )
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    x = layers.Conv2D(
        _make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
        name="Conv1",
    )(img_input)  # fmt: skip
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(
            x, filters=filters, alpha=alpha, stride=stride, expansion=expansion, block_id=block_id
        )

    # No width multiplier below 1 on the last conv (as in the paper); above 1 it widens.
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    imagenet_utils.load_model_weights(model, weights, imagenet_path)
    return model


def preprocess_input(x, data_format=None):
    """Preprocesses images for MobileNetV2: scales pixels from [0, 255] to [-1, 1].

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"tf"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

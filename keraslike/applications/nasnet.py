"""NASNetMobile and NASNetLarge (NASNet-A), layer for layer as in Keras 3.

Reference: [Learning Transferable Architectures for Scalable Image Recognition](
https://arxiv.org/abs/1707.07012) (CVPR 2018). Normal and reduction cells found by architecture
search, each combining the previous two cells' outputs (`p`, `ip`). Layers are created in Keras's
order, so the unnamed ones get Keras's automatic names too. `channels_last` only. (Keras 3 refuses
`NASNetMobile` on its torch backend; here it is built like `NASNetLarge`.)
"""

from keraslike import layers
from keraslike.applications import _builder, imagenet_utils
from keraslike.backend import config

_WEIGHTS_URL = _builder.KERAS_APPS_URL + "nasnet/"
_BN = dict(momentum=0.9997, epsilon=1e-3)
# default size: (weights file with top, without top, Keras's download name stem)
_FILES = {224: ("nasnet_mobile.h5", "nasnet_mobile_no_top.h5", "NASNet-mobile"),
          331: ("nasnet_large.h5", "nasnet_large_no_top.h5", "NASNet-large")}  # fmt: skip


def _bn(name):
    return layers.BatchNormalization(axis=-1, name=name, **_BN)


def _conv1x1(x, filters, name):
    return layers.Conv2D(
        filters, (1, 1), strides=(1, 1), padding="same", use_bias=False, name=name, kernel_initializer="he_normal"
    )(x)


def _separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """ReLU -> SeparableConv2D (strided) -> BN -> ReLU -> SeparableConv2D -> BN."""
    x = layers.Activation("relu")(ip)
    if strides == (2, 2):
        x = layers.ZeroPadding2D(
            padding=imagenet_utils.correct_pad(x, kernel_size), name=f"separable_conv_1_pad_{block_id}"
        )(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = layers.SeparableConv2D(
        filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}", padding=conv_pad, use_bias=False
    )(x)
    x = _bn(f"separable_conv_1_bn_{block_id}")(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(
        filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same", use_bias=False
    )(x)
    return _bn(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters, block_id=None):
    """Brings the previous-previous output `p` to `ip`'s resolution and `filters` channels."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
        p = layers.concatenate([p1, p2], axis=-1)
        return _bn(f"adjust_bn_{block_id}")(p)
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(p, filters, f"adjust_conv_projection_{block_id}")
        return _bn(f"adjust_bn_{block_id}")(p)
    return p


def _avg3(x, strides, padding, name):
    return layers.AveragePooling2D((3, 3), strides=strides, padding=padding, name=name)(x)


def _normal_a_cell(ip, p, filters, block_id=None):
    """A normal cell; returns `(output, ip)`."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _conv1x1(h, filters, f"normal_conv_1_{block_id}")
    h = _bn(f"normal_bn_1_{block_id}")(h)
    x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5), block_id=f"normal_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")
    x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
    x2_2 = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")
    x3 = _avg3(h, (1, 1), "same", f"normal_left3_{block_id}")
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")
    x4_1 = _avg3(p, (1, 1), "same", f"normal_left4_{block_id}")
    x4_2 = _avg3(p, (1, 1), "same", f"normal_right4_{block_id}")
    x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    """A reduction cell (halves the resolution); returns `(output, ip)`."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _conv1x1(h, filters, f"reduction_conv_1_{block_id}")
    h = _bn(f"reduction_bn_1_{block_id}")(h)
    h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
    x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2), block_id=f"reduction_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")
    x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
    x3_1 = _avg3(h3, (2, 2), "valid", f"reduction_left3_{block_id}")
    x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2), block_id=f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
    x4 = _avg3(x1, (1, 1), "same", f"reduction_left4_{block_id}")
    x4 = layers.add([x2, x4])
    x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def NASNet(
    input_shape=None,
    penultimate_filters=4032,
    num_blocks=6,
    stem_block_filters=96,
    skip_reduction=True,
    filter_multiplier=2,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    default_size=None,
    classifier_activation="softmax",
    name="NASNet",
):
    """Builds a NASNet-A model (Keras's `NASNet`); arguments as in `NASNetLarge`, plus:

    Args:
        penultimate_filters: Filters of the penultimate layer (a multiple of
            `24 * filter_multiplier ** 2`).
        num_blocks: Normal cells between reductions.
        stem_block_filters: Filters of the stem convolution.
        skip_reduction: Whether the reduction cells' inputs skip to the next cell (Large: True).
        filter_multiplier: Filter growth at each reduction.
        default_size: The default input size (224: Mobile weights, 331: Large weights).
    """
    if config.image_data_format() == "channels_first":
        raise ValueError(
            "NASNet does not support the `channels_first` image data format. Switch to "
            "`channels_last` (`keras.config.set_image_data_format('channels_last')`)."
        )
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError(
            "When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
            f"input_shape argument must be static (no None entries). Got: `input_shape={input_shape}`."
        )
    if default_size is None:
        default_size = 331
    file_name = None
    if weights == "imagenet":
        if default_size not in _FILES:
            raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile")
        file_name = _FILES[default_size][0 if include_top else 1]
        stem = _FILES[default_size][2]
        url = f"{_WEIGHTS_URL}{stem}{'' if include_top else '-no-top'}.h5"
    if penultimate_filters % (24 * (filter_multiplier**2)) != 0:
        raise ValueError(
            "For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * "
            f"(`filter_multiplier` ** 2). Current value: {penultimate_filters}"
        )
    img_input, path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, default_size=default_size, weights_file=file_name,
        weights_url=url if file_name else None, what=name,
    )  # fmt: skip
    filters = penultimate_filters // 24
    x = layers.Conv2D(
        stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False, name="stem_conv1",
        kernel_initializer="he_normal",
    )(img_input)  # fmt: skip
    x = _bn("stem_bn1")(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // (filter_multiplier**2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters, block_id=f"{i}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier, block_id=f"reduce_{num_blocks}")
    p = p0 if not skip_reduction else p
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier, block_id=f"{num_blocks + i + 1}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier**2, block_id=f"reduce_{2 * num_blocks}")
    p = p0 if not skip_reduction else p
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier**2, block_id=f"{2 * num_blocks + i + 1}")
    x = layers.Activation("relu")(x)
    x = _builder.classifier_top(
        x, include_top, pooling, classes, classifier_activation, avg_name=None, max_name=None
    )
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


_ABOUT = """The default input size is {size}x{size}{notop}. `channels_last` only. Expects inputs
    preprocessed with `keras.applications.nasnet.preprocess_input` (scaled to [-1, 1])."""
_ARGS = """input_shape: Optional shape tuple (height and width at least 32; static with ImageNet
            weights).
        include_top: Whether to include the classifier at the top of the network.
        weights: `None` (random initialization), `"imagenet"` (Keras's pretrained file, read from
            `$KERAS_HOME/models` or `~/.keras/models`; never downloaded), or the path to a Keras
            `.h5` / `.weights.h5` weights file.
        input_tensor: Optional KerasTensor (output of `keras.Input()`) to use as image input.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        classes: Number of classes, when `include_top` is True and `weights` is not `"imagenet"`.
        classifier_activation: Activation of the top layer (`None` for logits); only `None` or
            `"softmax"` with pretrained weights.
        name: The model's name."""


def NASNetMobile(
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_mobile",
):
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(
        input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
        filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
        pooling=pooling, classes=classes, default_size=224, classifier_activation=classifier_activation,
        name=name,
    )  # fmt: skip


def NASNetLarge(
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_large",
):
    return NASNet(
        input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
        filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
        pooling=pooling, classes=classes, default_size=331, classifier_activation=classifier_activation,
        name=name,
    )  # fmt: skip


for _fn, _size, _notop in ((NASNetMobile, 224, " (also without top)"), (NASNetLarge, 331, "")):
    _fn.__doc__ = _builder.model_doc(
        _fn.__name__, _ABOUT.format(size=_size, notop=_notop), args=_ARGS, channels_last_only=True
    )


def preprocess_input(x, data_format=None):
    """Preprocesses images for NASNet: scales pixels from [0, 255] to [-1, 1].

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"tf"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

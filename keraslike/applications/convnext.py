"""ConvNeXtTiny, Small, Base, Large and XLarge, layer for layer as in Keras 3.

Reference: [A ConvNet for the 2020s](https://arxiv.org/abs/2201.03545) (CVPR 2022). A stem and
three downsampling blocks (each a `Sequential` of convolution and LayerNormalization, as in
Keras) and stages of ConvNeXt blocks: 7x7 depthwise convolution, LayerNormalization, an MLP
(Dense layers on the channel axis, GELU), LayerScale and a residual. As in Keras, the ImageNet
normalization is the model's first layer (`include_preprocessing=True`): feed pixels in [0, 255];
`preprocess_input` returns its input unchanged. `channels_last` only.
"""

import numpy as np

from keraslike import layers
from keraslike.applications import _builder, imagenet_utils
from keraslike.applications.convnext_layers import LayerScale, StochasticDepth
from keraslike.backend import config
from keraslike.models import Sequential

_WEIGHTS_URL = _builder.KERAS_APPS_URL + "convnext/"
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024], "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536], "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048], "default_size": 224},
}

def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name=None):
    """Returns a function applying one ConvNeXt block (layers named `{name}_...`).

    Args:
        projection_dim: Channels of the block's input and output.
        drop_path_rate: Stochastic-depth rate of the residual branch (0 for none).
        layer_scale_init_value: Initial LayerScale value; `None` for no LayerScale.
        name: Prefix of the block's layer names.
    """

    def apply(inputs):
        x = layers.Conv2D(
            filters=projection_dim, kernel_size=7, padding="same", groups=projection_dim,
            name=f"{name}_depthwise_conv",
        )(inputs)  # fmt: skip
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            layer = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            layer = layers.Activation("linear", name=f"{name}_identity")
        return inputs + layer(x)

    return apply


def PreStem(name):
    """Returns a function normalizing [0, 255] pixels with ImageNet's mean and std."""

    def apply(x):
        return layers.Normalization(
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
            variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
            name=f"{name}_prestem_normalization",
        )(x)

    return apply


def Head(num_classes=1000, classifier_activation=None, name=None):
    """Returns a function applying the classification head (pooling, LayerNorm, Dense)."""

    def apply(x):
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation, name=f"{name}_head_dense")(x)

    return apply


def ConvNeXt(
    depths,
    projection_dims,
    drop_path_rate=0.0,
    layer_scale_init_value=1e-6,
    default_size=224,
    name="convnext",
    include_preprocessing=True,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """Builds a ConvNeXt with `depths` blocks of `projection_dims` channels in its four stages.

    With `weights="imagenet"`, `depths`/`projection_dims` must be those of `weights_name`
    (e.g. `"convnext_tiny"`) and `name` must contain it. Other arguments as in `ConvNeXtTiny`.
    """
    if config.image_data_format() == "channels_first":
        raise ValueError(
            "ConvNeXt does not support the `channels_first` image data format. Switch to "
            "`channels_last` (`keras.config.set_image_data_format('channels_last')`)."
        )
    file_name = None
    if weights == "imagenet":
        expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
        if list(depths) != expected["depths"] or list(projection_dims) != expected["projection_dims"]:
            raise ValueError(
                f"Architecture configuration does not match {weights_name} variant. When using "
                "pre-trained weights, the model architecture must match the pre-trained "
                f"configuration exactly. Expected depths: {expected['depths']}, got: {depths}. "
                f"Expected projection_dims: {expected['projection_dims']}, got: {projection_dims}."
            )
        if weights_name not in name:
            raise ValueError(
                f'Model name "{name}" does not match weights variant "{weights_name}". When using '
                "imagenet weights, model name must contain the weights variant (e.g., "
                f'"convnext_{weights_name.split("convnext_")[-1]}").'
            )
        file_name = name + (".h5" if include_top else "_notop.h5")
    img_input, path = _builder.start(
        weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape,
        input_tensor=input_tensor, default_size=default_size, weights_file=file_name,
        weights_url=_WEIGHTS_URL + (file_name or ""), what=name,
    )  # fmt: skip
    x = img_input
    if include_preprocessing and x.shape[-1] == 3:
        x = PreStem(name=name)(x)

    stem = Sequential(
        [
            layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
            layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
        ],
        name=f"{name}_stem",
    )
    downsample_layers = [stem]
    for i in range(3):
        downsample_layers.append(
            Sequential(
                [
                    layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
                    layers.Conv2D(
                        projection_dims[i + 1], kernel_size=2, strides=2, name=f"{name}_downsampling_conv_{i}"
                    ),
                ],
                name=f"{name}_downsampling_block_{i}",
            )
        )
    depth_drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample_layers[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(
                projection_dim=projection_dims[i], drop_path_rate=depth_drop_rates[cur + j],
                layer_scale_init_value=layer_scale_init_value, name=f"{name}_stage_{i}_block_{j}",
            )(x)  # fmt: skip
        cur += depths[i]

    if include_top:
        x = Head(num_classes=classes, classifier_activation=classifier_activation, name=name)(x)
    else:
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    return _builder.finish(input_tensor, img_input, x, name, weights, path)


_ABOUT = """The default input size is 224x224 (at least 32x32); `channels_last` only. With
    `include_preprocessing=True` (the default) the model normalizes its input itself: feed pixels
    in [0, 255]."""
_ARGS = """include_top: Whether to include the classification head.
        include_preprocessing: Whether the model starts with ImageNet's normalization (keep it
            with `weights="imagenet"`).
        weights: `None` (random initialization), `"imagenet"` (Keras's pretrained file, read from
            `$KERAS_HOME/models` or `~/.keras/models`; never downloaded), or the path to a Keras
            `.h5` / `.weights.h5` weights file.
        input_tensor: Optional KerasTensor (output of `keras.Input()`) to use as image input.
        input_shape: Optional shape tuple, only when `include_top` is False; 3 channels.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"` (each followed by a
            LayerNormalization, as in Keras).
        classes: Number of classes, when `include_top` is True and `weights` is not `"imagenet"`.
        classifier_activation: Activation of the top layer (`None` for logits).
        name: The model's name (must contain `{weights_name}` with ImageNet weights)."""


def _variant(size):
    cfg = MODEL_CONFIGS[size]
    weights_name = f"convnext_{size}"

    def model_fn(
        include_top=True,
        include_preprocessing=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=weights_name,
    ):
        return ConvNeXt(
            weights_name=weights_name, depths=cfg["depths"], projection_dims=cfg["projection_dims"],
            drop_path_rate=0.0, layer_scale_init_value=1e-6, default_size=cfg["default_size"], name=name,
            include_top=include_top, include_preprocessing=include_preprocessing, weights=weights,
            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
            classifier_activation=classifier_activation,
        )  # fmt: skip

    model_fn.__name__ = model_fn.__qualname__ = "ConvNeXt" + {"xlarge": "XLarge"}.get(size, size.title())
    model_fn.__doc__ = _builder.model_doc(
        model_fn.__name__, _ABOUT, _ARGS.format(weights_name=weights_name), channels_last_only=True
    )
    return model_fn


ConvNeXtTiny = _variant("tiny")
ConvNeXtSmall = _variant("small")
ConvNeXtBase = _variant("base")
ConvNeXtLarge = _variant("large")
ConvNeXtXLarge = _variant("xlarge")


preprocess_input = _builder.unchanged_preprocess_input(
    "ConvNeXt models normalize their input themselves", __name__
)


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

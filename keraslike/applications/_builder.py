"""The steps every application model shares: argument checks, the input, the top, the weights.

A model function calls `start(...)` (Keras's checks, in Keras's order, and the ImageNet file
looked up before anything is built), builds its body on the returned input, then `finish(...)`
(the `Model` over the input's sources, then the weights). `classifier_top` is the common
GlobalAveragePooling + Dense head (and the `pooling` alternatives) most families use.
"""

from keraslike import layers
from keraslike.applications import imagenet_utils
from keraslike.backend import config
from keraslike.models import Model

KERAS_APPS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"

DOC_COMMON_ARGS = """include_top: Whether to include the classifier at the top of the network.
        weights: `None` (random initialization), `"imagenet"` (Keras's pretrained file, read from
            `$KERAS_HOME/models` or `~/.keras/models`; never downloaded), or the path to a Keras
            `.h5` / `.weights.h5` weights file.
        input_tensor: Optional KerasTensor (output of `keras.Input()`) to use as image input.
        input_shape: Optional shape tuple, only when `include_top` is False (otherwise the
            model's default size is used); 3 channels.
        pooling: With `include_top=False`: `None` (4D output of the last block), `"avg"` or
            `"max"` (global pooling, 2D output).
        classes: Number of classes, when `include_top` is True and `weights` is not `"imagenet"`.
        classifier_activation: Activation of the top layer (`None` for logits); only `None` or
            `"softmax"` with pretrained weights.
        name: The model's name."""


_RAISES = (
    "For invalid `weights`, `classes`, `input_shape` or `classifier_activation`,\n"
    "            {extra}or when the ImageNet weights file is not on this machine."
)

_MODEL_DOC = """Instantiates the {model} architecture (Keras 3's layers, names and weight order).

    {about}

    Args:
        {args}

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: {raises}

    Example:

    ```python
    {example}
    ```
    """


def model_doc(model, about, args=DOC_COMMON_ARGS, raises=None, channels_last_only=False, example=None):
    """The docstring of an application model function, in the families' common frame.

    Args:
        model: The public name (`"ResNet50V2"`).
        about: The paragraph on input size and preprocessing (lines indented by 4 spaces).
        args: The `Args:` entries (default: the arguments every family shares).
        raises: The `ValueError` text (default: the common one).
        channels_last_only: The default text also names `channels_first` as refused.
        example: The example's code line (default: a headless model with average pooling).
    """
    if raises is None:
        raises = _RAISES.format(extra="under `channels_first`, " if channels_last_only else "")
    if example is None:
        example = f'model = keras.applications.{model}(weights=None, include_top=False, pooling="avg")'
    return _MODEL_DOC.format(model=model, about=about, args=args, raises=raises, example=example)


def standard_variant(public_name, default_name, build, module, doc):
    """A public model function with the 8 arguments most families share, calling `build`.

    `build(include_top, weights, input_tensor, input_shape, pooling, classes,
    classifier_activation, name)` builds the model; the returned function carries Keras's
    signature (these defaults, `name=default_name`), `public_name`, `module` and `doc`.
    """

    def model_fn(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=default_name,
    ):
        return build(
            include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
        )

    model_fn.__name__ = model_fn.__qualname__ = public_name
    model_fn.__module__ = module
    model_fn.__doc__ = doc
    return model_fn


def unchanged_preprocess_input(why, module):
    """A family's `preprocess_input` (in `module`) that returns its input: `why` says what the
    model does itself (e.g. "ConvNeXt models normalize their input themselves")."""

    def preprocess_input(x, data_format=None):
        del data_format
        return x

    preprocess_input.__qualname__ = "preprocess_input"
    preprocess_input.__module__ = module
    preprocess_input.__doc__ = f"""Returns `x` unchanged: {why} (as in Keras).

    Args:
        x: A floating point NumPy array or tensor, pixels in [0, 255].
        data_format: Unused; kept for the common signature.

    Returns:
        `x`.
    """
    return preprocess_input


def channel_axis():
    """The channel axis of 4D image tensors under the current `image_data_format`."""
    return 1 if config.image_data_format() == "channels_first" else -1


def bn_axis():
    """Keras's `bn_axis` for 4D tensors: 3 (channels_last) or 1 (channels_first)."""
    return 1 if config.image_data_format() == "channels_first" else 3


def start(
    *,
    weights,
    include_top,
    classes,
    pooling,
    classifier_activation,
    input_shape,
    input_tensor,
    default_size=224,
    min_size=32,
    weights_file=None,
    weights_url=None,
    what=None,
    validate_activation=True,
    shape_is_final=False,
):
    """Checks the arguments and returns `(img_input, imagenet_path)`.

    Args:
        weights, include_top, classes, pooling, classifier_activation, input_shape,
            input_tensor: The model function's arguments.
        default_size: The model's default height and width.
        min_size: The smallest accepted height and width.
        weights_file: Keras's ImageNet file name for these arguments (looked up in the local
            cache when `weights="imagenet"`; `None` when Keras publishes no such file).
        weights_url: Where Keras downloads `weights_file` from (quoted in the error).
        what: The model, for the error message (e.g. `"DenseNet121"`).
        validate_activation: Whether to apply Keras's `classifier_activation` rule.
        shape_is_final: `input_shape` already went through `obtain_input_shape` (the caller
            needed it first); use it as is.

    Returns:
        The image input tensor and the local path of the ImageNet file (or `None`).

    Raises:
        ValueError: For invalid arguments, or a missing ImageNet file.
    """
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    imagenet_utils.check_pooling(pooling)
    if not shape_is_final:
        input_shape = imagenet_utils.obtain_input_shape(
            input_shape,
            default_size=default_size,
            min_size=min_size,
            data_format=config.image_data_format(),
            require_flatten=include_top,
            weights=weights,
        )
    if include_top and validate_activation:
        imagenet_utils.validate_activation(classifier_activation, weights)
    path = None
    if weights == "imagenet":
        if weights_file is None:
            raise ValueError(f"Keras publishes no ImageNet weights for {what} with these arguments.")
        path = imagenet_utils.find_model_file(weights_file, f"{what}'s ImageNet weights", weights_url)
    return imagenet_utils.image_input(input_tensor, input_shape), path


def classifier_top(
    x,
    include_top,
    pooling,
    classes,
    classifier_activation,
    avg_name="avg_pool",
    max_name="max_pool",
    top_avg_name=None,
    dropout=None,
):
    """Global pooling + `predictions` Dense (top), or the `pooling` alternative without top.

    Args:
        x: The body's output.
        avg_name / max_name: Names of the pooling layers without top (`None`: default names).
        top_avg_name: Name of the pooling layer of the top (default: `avg_name`).
        dropout: `(rate, name)` of a Dropout layer between the pooling and the Dense, or `None`.
    """
    if include_top:
        x = layers.GlobalAveragePooling2D(name=avg_name if top_avg_name is None else top_avg_name)(x)
        if dropout is not None:
            x = layers.Dropout(dropout[0], name=dropout[1])(x)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def finish(input_tensor, img_input, x, name, weights, imagenet_path):
    """Builds the `Model` (inputs: the sources of `input_tensor`) and loads `weights`."""
    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    imagenet_utils.load_model_weights(model, weights, imagenet_path)
    return model

"""VGG16 (and the VGG builder VGG19 shares), layer for layer as in Keras 3.

Reference: [Very Deep Convolutional Networks for Large-Scale Image Recognition](
https://arxiv.org/abs/1409.1556) (ICLR 2015).
"""

from keraslike import layers
from keraslike.applications import imagenet_utils
from keraslike.applications.torchvision_import import vgg_from_torchvision
from keraslike.backend import config
from keraslike.models import Model

_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/{0}/{1}"
_BLOCK_FILTERS = (64, 128, 256, 512, 512)


def build_vgg(
    convs_per_block,
    weights_name,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
):
    """Builds a VGG network with `convs_per_block[i]` 3x3 convolutions in block `i + 1`.

    `weights_name` (`"vgg16"`, `"vgg19"`) names Keras's pretrained files.
    """
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    imagenet_utils.check_pooling(pooling)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=224,
        min_size=32,
        data_format=config.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    imagenet_path = None
    if weights == "imagenet":  # look for the file before building the model
        file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
        imagenet_path = imagenet_utils.find_model_file(
            file_name,
            f"{weights_name.upper()}'s ImageNet weights",
            _WEIGHTS_URL.format(weights_name, file_name),
        )
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    x = img_input
    for block, (filters, convs) in enumerate(zip(_BLOCK_FILTERS, convs_per_block), start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(
                filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}"
            )(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)

    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    imagenet_utils.load_model_weights(model, weights, imagenet_path)
    return model


def VGG16(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg16",
):
    """Instantiates the VGG16 model (Keras 3's architecture, layer names and weight order).

    The default input size is 224x224. Expects inputs preprocessed with
    `keras.applications.vgg16.preprocess_input` (RGB to BGR, ImageNet mean subtracted).

    Args:
        include_top: Whether to include the 3 fully-connected layers at the top.
        weights: `None` (random initialization), `"imagenet"` (Keras's pretrained file, read from
            `$KERAS_HOME/models` or `~/.keras/models`; never downloaded), or the path to a Keras
            `.h5` / `.weights.h5` weights file.
        input_tensor: Optional KerasTensor (output of `keras.Input()`) to use as image input.
        input_shape: Optional shape tuple, only when `include_top` is False (otherwise it is
            `(224, 224, 3)`); 3 channels, height and width at least 32.
        pooling: With `include_top=False`: `None` (4D output of the last block), `"avg"` or
            `"max"` (global pooling, 2D output).
        classes: Number of classes, when `include_top` is True and `weights` is not `"imagenet"`.
        classifier_activation: Activation of the top layer (`None` for logits); only `None` or
            `"softmax"` with pretrained weights.
        name: The model's name.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: For invalid `weights`, `classes`, `input_shape` or `classifier_activation`,
            or when the ImageNet weights file is not on this machine.

    Example:

    ```python
    model = keras.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))
    model.output_shape  # (None, 2, 2, 512)
    ```
    """
    return build_vgg(
        (2, 2, 3, 3, 3),
        "vgg16",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def preprocess_input(x, data_format=None):
    """Preprocesses images for VGG16: RGB to BGR, then ImageNet's channel means subtracted.

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"caffe"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)


def from_torchvision(module_or_state_dict, include_top=True, input_shape=None, pooling=None, name="vgg16"):
    """Builds VGG16 with the weights of torchvision's `vgg16` (see `torchvision_import`)."""
    return vgg_from_torchvision(VGG16, module_or_state_dict, include_top, input_shape, pooling, name)

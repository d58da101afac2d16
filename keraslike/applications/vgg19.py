"""VGG19, layer for layer as in Keras 3 (the VGG builder lives in `vgg16`)."""

from keraslike.applications import imagenet_utils
from keraslike.applications.torchvision_import import vgg_from_torchvision
from keraslike.applications.vgg16 import build_vgg


def VGG19(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    """Instantiates the VGG19 model (Keras 3's architecture, layer names and weight order).

    Same arguments as `keras.applications.VGG16`; VGG19 has four convolutions in blocks 3 to 5
    (143,667,240 parameters with the top). Expects `vgg19.preprocess_input` inputs.

    Args:
        include_top: Whether to include the 3 fully-connected layers at the top.
        weights: `None`, `"imagenet"` (local Keras file, never downloaded) or a weights file path.
        input_tensor: Optional KerasTensor to use as image input.
        input_shape: Optional shape tuple, only when `include_top` is False; at least 32x32.
        pooling: `None`, `"avg"` or `"max"` when `include_top` is False.
        classes: Number of classes, when `include_top` is True and `weights` is not `"imagenet"`.
        classifier_activation: Activation of the top layer (`None` for logits).
        name: The model's name.

    Returns:
        A `keras.Model`.

    Example:

    ```python
    model = keras.applications.VGG19(weights=None, include_top=False, pooling="avg")
    ```
    """
    return build_vgg(
        (2, 2, 4, 4, 4),
        "vgg19",
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
    """Preprocesses images for VGG19: RGB to BGR, then ImageNet's channel means subtracted."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)


def from_torchvision(module_or_state_dict, include_top=True, input_shape=None, pooling=None, name="vgg19"):
    """Builds VGG19 with the weights of torchvision's `vgg19` (see `torchvision_import`)."""
    return vgg_from_torchvision(VGG19, module_or_state_dict, include_top, input_shape, pooling, name)

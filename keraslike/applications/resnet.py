"""ResNet50, ResNet101 and ResNet152 (v1), layer for layer as in Keras 3.

Reference: [Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)
(CVPR 2015). Keras's v1 block puts the stride in the first 1x1 convolution and gives every
convolution a bias; torchvision's ResNet ("v1.5") strides the 3x3 convolution instead, so its
weights compute a different function here and no torchvision import is offered.
"""

from keraslike import layers
from keraslike.applications import imagenet_utils
from keraslike.backend import config
from keraslike.models import Model

_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_BN_EPSILON = 1.001e-5


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """One bottleneck block: 1x1 (strided) -> kxk -> 1x1 (x4 filters), plus the shortcut.

    Args:
        x: Input tensor.
        filters: Filters of the bottleneck layers (the block outputs `4 * filters`).
        kernel_size: Kernel size of the middle convolution.
        stride: Stride of the first convolution (and of the projection shortcut).
        conv_shortcut: Projection shortcut (1x1 conv + BN) if True, identity otherwise.
        name: Prefix of the block's layer names.

    Returns:
        The block's output tensor.
    """
    bn_axis = _bn_axis()
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_BN_EPSILON, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """`blocks` residual blocks; the first projects and strides by `stride1`."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def ResNet(
    blocks_per_stack,
    weights_name,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet",
):
    """Builds a ResNet v1 with `blocks_per_stack` blocks in stacks conv2..conv5.

    `weights_name` (`"resnet50"`, ...) names Keras's pretrained files. Other arguments as in
    `ResNet50`.
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
            file_name, f"{name}'s ImageNet weights", _WEIGHTS_URL + file_name
        )
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=_bn_axis(), epsilon=_BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    for stack, (filters, blocks) in enumerate(zip((64, 128, 256, 512), blocks_per_stack), start=2):
        x = stack_residual_blocks_v1(x, filters, blocks, stride1=1 if stack == 2 else 2, name=f"conv{stack}")

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    model = Model(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    imagenet_utils.load_model_weights(model, weights, imagenet_path)
    return model


_DOC = """Instantiates the {model} architecture (Keras 3's layers, names and weight order).

    The default input size is 224x224. Expects inputs preprocessed with
    `keras.applications.resnet.preprocess_input` (RGB to BGR, ImageNet mean subtracted).

    Args:
        include_top: Whether to include the fully-connected layer at the top.
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
    model = keras.applications.{model}(weights=None, include_top=False, pooling="avg")
    ```
    """


def ResNet50(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet50",
):
    return ResNet(
        (3, 4, 6, 3), "resnet50", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def ResNet101(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet101",
):
    return ResNet(
        (3, 4, 23, 3), "resnet101", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


def ResNet152(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet152",
):
    return ResNet(
        (3, 8, 36, 3), "resnet152", include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name,
    )  # fmt: skip


for _fn in (ResNet50, ResNet101, ResNet152):
    _fn.__doc__ = _DOC.format(model=_fn.__name__)


def preprocess_input(x, data_format=None):
    """Preprocesses images for ResNet: RGB to BGR, then ImageNet's channel means subtracted.

    See `keras.applications.imagenet_utils.preprocess_input` (mode `"caffe"`).
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions; see `keras.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)

"""Keras layers, each a `torch.nn.Module`."""

from keraslike.layers.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from keraslike.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from keraslike.layers.attention import (
    AdditiveAttention,
    Attention,
    GroupQueryAttention,
    MultiHeadAttention,
)
from keraslike.layers.core import Activation, Dense, Embedding, Identity, Lambda
from keraslike.layers.einsum_dense import EinsumDense
from keraslike.layers.input_layer import Input, InputLayer
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.masking import Masking
from keraslike.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from keraslike.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
from keraslike.layers.rms_normalization import RMSNormalization
from keraslike.layers.spectral_normalization import SpectralNormalization
from keraslike.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from keraslike.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from keraslike.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from keraslike.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from keraslike.layers.recurrent import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    ConvLSTM1D,
    ConvLSTM2D,
    ConvLSTM3D,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    TimeDistributed,
)
from keraslike.layers.reversible_embedding import ReversibleEmbedding
from keraslike.layers.torch_module_wrapper import TorchModuleWrapper
from keraslike.layers.wrapper import Wrapper
from keraslike.serialization.keras_objects import (
    deserialize_keras_object as _deserialize_keras_object,
    serialize_keras_object as _serialize_keras_object,
)


def serialize(layer):
    """Returns a layer's configuration in Keras 3's serialized format.

    Args:
        layer: A `keras.layers.Layer` instance.

    Returns:
        A dict `{"module", "class_name", "config", "registered_name", ...}`.

    Example:

    >>> keras.layers.serialize(keras.layers.Dense(3))["class_name"]
    'Dense'
    """
    return _serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """Returns a layer from its serialized configuration.

    Args:
        config: A dict as returned by `serialize()` (Keras's or keraslike's).
        custom_objects: Optional dict mapping names to custom classes and functions.

    Returns:
        A `keras.layers.Layer` instance.

    Raises:
        ValueError: When the config describes something that is not a layer.
    """
    obj = _deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(obj, Layer):
        raise ValueError(
            "`keras.layers.deserialize` was passed a `config` object that is not a "
            f"`keras.layers.Layer`. Received: {config}"
        )
    return obj


from keraslike._api_gaps import module_getattr as _module_getattr  # noqa: E402
from keraslike._lazy import lazy_exports as _lazy_exports  # noqa: E402
from keraslike._lazy import lazy_submodules as _lazy_submodules  # noqa: E402

# The preprocessing layers (22 modules) load on first access (keraslike/README.md); the package
# root registers these names with the registry, which resolves them when a config names one.
_load_lazy = _lazy_exports(
    _lazy_submodules("keraslike.layers", ("preprocessing",)),
    {"preprocessing": (
        "AugMix",
        "AutoContrast",
        "CategoryEncoding",
        "CenterCrop",
        "ContrastLimitedAdaptiveHistogramEqualization",
        "CutMix",
        "Discretization",
        "Equalization",
        "HashedCrossing",
        "Hashing",
        "IntegerLookup",
        "MaxNumBoundingBoxes",
        "MelSpectrogram",
        "MixUp",
        "Normalization",
        "Pipeline",
        "RandAugment",
        "RandomBrightness",
        "RandomColorDegeneration",
        "RandomColorJitter",
        "RandomContrast",
        "RandomCrop",
        "RandomElasticTransform",
        "RandomErasing",
        "RandomFlip",
        "RandomGaussianBlur",
        "RandomGrayscale",
        "RandomHue",
        "RandomInvert",
        "RandomPerspective",
        "RandomPosterization",
        "RandomRotation",
        "RandomSaturation",
        "RandomSharpness",
        "RandomShear",
        "RandomTranslation",
        "RandomZoom",
        "Rescaling",
        "Resizing",
        "STFTSpectrogram",
        "Solarization",
        "StringLookup",
        "TextVectorization",
    )},
)
__getattr__ = _module_getattr("keraslike.layers", fallback=_load_lazy)


def __dir__():
    return sorted(set(globals()) | _load_lazy.names)

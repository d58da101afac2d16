"""Keras's ImageNet models (`keras.applications`), with Keras 3's architectures and layer names.

Each model function returns a `keras.Model` whose `layers`, names, parameter counts and weight
order equal Keras 3's, so Keras's pretrained `.h5` files load into it (`weights="imagenet"` reads
them from `$KERAS_HOME/models` or `~/.keras/models`; nothing is downloaded) and weights move
both ways with `get_weights` / `set_weights`.

Modules, as in Keras, each with its model(s), `preprocess_input` and `decode_predictions`:
`convnext`, `densenet`, `efficientnet`, `efficientnet_v2`, `inception_resnet_v2`, `inception_v3`,
`mobilenet`, `mobilenet_v2`, `mobilenet_v3`, `nasnet`, `resnet`, `resnet50`, `resnet_v2`, `vgg16`,
`vgg19`, `xception`; `imagenet_utils`; `weights_io` (the `.h5` reader). Families that include
their own input normalization (ConvNeXt, EfficientNet, EfficientNetV2, MobileNetV3) have a
`preprocess_input` that returns its input, as in Keras.
"""

from keraslike.applications import (
    convnext,
    densenet,
    efficientnet,
    efficientnet_v2,
    imagenet_utils,
    inception_resnet_v2,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    nasnet,
    private_layers,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from keraslike.applications.convnext import (
    ConvNeXtBase,
    ConvNeXtLarge,
    ConvNeXtSmall,
    ConvNeXtTiny,
    ConvNeXtXLarge,
)
from keraslike.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from keraslike.applications.efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from keraslike.applications.efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)
from keraslike.applications.inception_resnet_v2 import InceptionResNetV2
from keraslike.applications.inception_v3 import InceptionV3
from keraslike.applications.mobilenet import MobileNet
from keraslike.applications.mobilenet_v2 import MobileNetV2
from keraslike.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from keraslike.applications.nasnet import NASNetLarge, NASNetMobile
from keraslike.applications.resnet import ResNet50, ResNet101, ResNet152
from keraslike.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from keraslike.applications.vgg16 import VGG16
from keraslike.applications.vgg19 import VGG19
from keraslike.applications.xception import Xception

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "InceptionResNetV2",
    "InceptionV3",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "NASNetLarge",
    "NASNetMobile",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "VGG16",
    "VGG19",
    "Xception",
    "convnext",
    "densenet",
    "efficientnet",
    "efficientnet_v2",
    "imagenet_utils",
    "inception_resnet_v2",
    "inception_v3",
    "mobilenet",
    "mobilenet_v2",
    "mobilenet_v3",
    "nasnet",
    "resnet",
    "resnet50",
    "resnet_v2",
    "vgg16",
    "vgg19",
    "xception",
]

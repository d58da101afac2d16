"""The Functional API guide: "Extract and reuse nodes in the graph of layers".

A functional model is a data structure: every layer's output is a symbolic tensor you can reach
(`layer.output`) and reuse. Here they become the outputs of a new feature-extraction model that
returns every intermediate activation of VGG19 (the basis of neural style transfer).

The guide loads VGG19 with ImageNet weights. Nothing is downloaded here: the script builds
`keras.applications.VGG19(weights=None)` (the same architecture, 143,667,240 parameters, random
weights). If `keraslike.applications` is missing, it uses a small VGG-like stand-in and says so.

Run: python examples/feature_extraction.py
"""

import numpy as np
import torch

import keraslike as keras
from keraslike import layers

from _common import check

keras.utils.set_random_seed(1337)

try:
    import keraslike.applications  # noqa: F401  (makes keras.applications available)

    applications = keras.applications
except ImportError as error:  # pragma: no cover - only while applications is being written
    applications = None
    print(f"keraslike.applications is not available ({error}); using a small VGG-like stand-in.")


def small_vgg_like(input_shape=(64, 64, 3)):
    """A VGG-shaped stand-in: blocks of 3x3 convs + max pooling, then a dense head."""
    img = keras.Input(shape=input_shape, name="input_layer")
    x = img
    for block, (filters, convs) in enumerate([(16, 2), (32, 2), (64, 4)], start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="fc1")(x)
    x = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(img, x, name="vgg_like")


if applications is not None:
    vgg19 = applications.VGG19(weights=None)  # the guide: tf.keras.applications.VGG19() (ImageNet weights)
    image_size = 224
    check(vgg19.count_params() == 143667240, f"VGG19 has {vgg19.count_params():,} params, Keras: 143,667,240")
    check(len(vgg19.layers) == 26, f"VGG19 has {len(vgg19.layers)} layers, Keras: 26")
else:
    vgg19 = small_vgg_like()
    image_size = 64
vgg19.summary()

# These are the intermediate activations of the model, obtained by querying the graph data structure:
features_list = [layer.output for layer in vgg19.layers]

# Use these features to create a new feature-extraction model that returns the values of the
# intermediate layer activations:
feat_extraction_model = keras.Model(inputs=vgg19.input, outputs=features_list)

img = np.random.random((1, image_size, image_size, 3)).astype("float32")
with torch.no_grad():
    extracted_features = feat_extraction_model(img)

check(len(extracted_features) == len(vgg19.layers), "one feature map per layer expected")
for layer, feature in zip(vgg19.layers, extracted_features):
    print(f"{layer.name:<16} {tuple(feature.shape)}")
    expected_shape = (1,) + tuple(layer.output.shape)[1:]
    check(tuple(feature.shape) == expected_shape, f"{layer.name}: {tuple(feature.shape)} != {expected_shape}")

# The feature extractor reuses VGG19's layers and weights: its last output IS VGG19's prediction.
with torch.no_grad():
    check(torch.allclose(extracted_features[-1], vgg19(img), atol=1e-6), "the extractor's last output differs from vgg19(img)")
check(feat_extraction_model.count_params() == vgg19.count_params(), "the extractor copied weights instead of sharing them")
# channels_last, as in Keras: the first conv block's features are (1, H, W, 64).
check(tuple(extracted_features[1].shape)[-1] == (64 if applications is not None else 16), "features are not channels_last")
print("OK: feature-extraction model built from the graph of", vgg19.name)

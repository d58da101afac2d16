"""The Functional API guide: "All models are callable, just like layers".

A model can be called on an `Input` or on another layer's output, like a layer; calling it reuses
its architecture AND its weights. Here an encoder model and a decoder model are chained into an
autoencoder, then three models are ensembled into one that averages their predictions.

Run: python examples/nested_models_and_ensembling.py
"""

import numpy as np
import torch

import keraslike as keras
from keraslike import layers

from _common import check

keras.utils.set_random_seed(1337)

# --- Encoder and decoder as separate models, chained in two calls ------------------------------
encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.MaxPooling2D(3)(x)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.Conv2D(16, 3, activation="relu")(x)
encoder_output = layers.GlobalMaxPooling2D()(x)

encoder = keras.Model(encoder_input, encoder_output, name="encoder")
encoder.summary()

decoder_input = keras.Input(shape=(16,), name="encoded_img")
x = layers.Reshape((4, 4, 1))(decoder_input)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
x = layers.UpSampling2D(3)(x)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

decoder = keras.Model(decoder_input, decoder_output, name="decoder")
decoder.summary()

autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
encoded_img = encoder(autoencoder_input)
decoded_img = decoder(encoded_img)
autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
autoencoder.summary()

check(encoder.count_params() == 18672, f"encoder: {encoder.count_params():,} params, guide: 18,672")
check(decoder.count_params() == 9569, f"decoder: {decoder.count_params():,} params, guide: 9,569")
check(autoencoder.count_params() == 28241, f"autoencoder: {autoencoder.count_params():,} params, guide: 28,241")
check(
    [layer.name for layer in autoencoder.layers] == ["img", "encoder", "decoder"],
    f"autoencoder layers: {[layer.name for layer in autoencoder.layers]}",
)
check(autoencoder.layers[1] is encoder and autoencoder.layers[2] is decoder, "nested models were copied, not reused")

# Calling a model reuses its weights: the autoencoder equals decoder(encoder(x)).
images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
with torch.no_grad():
    chained = decoder(encoder(images))
    direct = autoencoder(images)
check(tuple(direct.shape) == (4, 28, 28, 1), f"autoencoder output shape {tuple(direct.shape)}")
check(torch.allclose(chained, direct), "autoencoder(x) != decoder(encoder(x))")
print("autoencoder(x) == decoder(encoder(x)): the nested models share their weights.")


# --- Ensembling: average the predictions of three models ---------------------------------------
def get_model():
    inputs = keras.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return keras.Model(inputs, outputs)


model1 = get_model()
model2 = get_model()
model3 = get_model()

inputs = keras.Input(shape=(128,))
y1 = model1(inputs)
y2 = model2(inputs)
y3 = model3(inputs)
outputs = layers.average([y1, y2, y3])
ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
ensemble_model.summary()

check(ensemble_model.count_params() == 3 * 129, f"ensemble has {ensemble_model.count_params()} params, expected 387")
data = np.random.default_rng(1).random((8, 128)).astype("float32")
with torch.no_grad():
    mean_of_three = (model1(data) + model2(data) + model3(data)) / 3
    ensembled = ensemble_model(data)
check(tuple(ensembled.shape) == (8, 1), f"ensemble output shape {tuple(ensembled.shape)}")
check(torch.allclose(mean_of_three, ensembled, atol=1e-6), "the ensemble does not average its members")

# The ensemble trains end to end (and so do its members, which it shares).
targets = data @ np.random.default_rng(2).normal(size=(128, 1)).astype("float32")
ensemble_model.compile(optimizer="adam", loss="mse")
history = ensemble_model.fit(data.repeat(32, axis=0), targets.repeat(32, axis=0), epochs=5, batch_size=32, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "ensemble loss did not go down")
print("OK: models are callable like layers; nested models and an ensemble built and trained.")

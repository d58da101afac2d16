"""Port of keras-io `examples/vision/super_resolution_sub_pixel.py` (Image Super-Resolution
using an Efficient Sub-Pixel CNN, Xingyu Long, Keras 3 edition).

Changed: data (BSDS500 download, `image_dataset_from_directory`, tf.image YUV conversion and
resizing -> synthetic luminance targets (n, 24, 24, 1) in [0, 1] made of smooth random blobs,
inputs their 3x area-averaged (n, 8, 8, 1) versions, seeded, n=32 / 8), the tf.data pipeline
-> numpy arrays, epochs 100 -> 3, batch_size 8 kept, the checkpoint written to a temporary
folder, the callback's PIL test image and plotting -> the PSNR bookkeeping only, the library
passed in as `keras`. DepthToSpace (a custom layer with `ops.shape` / `ops.reshape` /
`ops.transpose` on inputs of unknown height and width), `get_model`, the ESPCN callback's
per-test-batch PSNR from `logs["loss"]`, EarlyStopping, ModelCheckpoint (full `.keras` model,
`save_best_only` on `loss`), compile/fit with validation data and `load_weights` are the example's.
"""

import math
import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    upscale_factor = 3
    crop_size = 24
    epochs = 3

    def make_data(n):
        coarse = rng.random((n, 6, 6, 1))
        high = np.kron(coarse, np.ones((1, 4, 4, 1)))  # smooth-ish 24x24 images
        high = (high + 0.1 * rng.random(high.shape)) / 1.1
        low = high.reshape(n, 8, 3, 8, 3, 1).mean(axis=(2, 4))
        return low.astype("float32"), high.astype("float32")

    train_x, train_y = make_data(32)
    valid_x, valid_y = make_data(8)

    class DepthToSpace(layers.Layer):
        def __init__(self, block_size):
            super().__init__()
            self.block_size = block_size

        def call(self, input):
            batch, height, width, depth = ops.shape(input)
            depth = depth // (self.block_size**2)

            x = ops.reshape(input, [batch, height, width, self.block_size, self.block_size, depth])
            x = ops.transpose(x, [0, 1, 3, 2, 4, 5])
            x = ops.reshape(x, [batch, height * self.block_size, width * self.block_size, depth])
            return x

    def get_model(upscale_factor=3, channels=1):
        conv_args = {
            "activation": "relu",
            "kernel_initializer": "orthogonal",
            "padding": "same",
        }
        inputs = keras.Input(shape=(None, None, channels))
        x = layers.Conv2D(64, 5, **conv_args)(inputs)
        x = layers.Conv2D(64, 3, **conv_args)(x)
        x = layers.Conv2D(32, 3, **conv_args)(x)
        x = layers.Conv2D(channels * (upscale_factor**2), 3, **conv_args)(x)
        outputs = DepthToSpace(upscale_factor)(x)

        return keras.Model(inputs, outputs)

    class ESPCNCallback(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch_psnr = []

        # Store PSNR value in each epoch.
        def on_epoch_begin(self, epoch, logs=None):
            self.psnr = []

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_psnr.append(np.mean(self.psnr))

        def on_test_batch_end(self, batch, logs=None):
            self.psnr.append(10 * math.log10(1 / logs["loss"]))

    espcn_callback = ESPCNCallback()
    with tempfile.TemporaryDirectory() as folder:
        early_stopping_callback = keras.callbacks.EarlyStopping(monitor="loss", patience=10)

        checkpoint_filepath = os.path.join(folder, "checkpoint.keras")

        model_checkpoint_callback = keras.callbacks.ModelCheckpoint(
            filepath=checkpoint_filepath,
            save_weights_only=False,
            monitor="loss",
            mode="min",
            save_best_only=True,
        )

        model = get_model(upscale_factor=upscale_factor, channels=1)
        model.summary(print_fn=lambda *a, **k: None)

        callbacks = [espcn_callback, early_stopping_callback, model_checkpoint_callback]
        loss_fn = keras.losses.MeanSquaredError()
        optimizer = keras.optimizers.Adam(learning_rate=0.001)

        model.compile(optimizer=optimizer, loss=loss_fn)

        if on_model:
            on_model(model)
        history = model.fit(
            train_x, train_y, batch_size=8, epochs=epochs, callbacks=callbacks,
            validation_data=(valid_x, valid_y), shuffle=shuffle, verbose=0,
        )

        # The model weights (that are considered the best) are loaded into the model.
        model.load_weights(checkpoint_filepath)

    upscaled = model.predict(valid_x[:2], verbose=0)
    assert upscaled.shape == (2, crop_size, crop_size, 1), upscaled.shape
    wide = model.predict(np.zeros((1, 5, 7, 1), "float32"), verbose=0)  # any height and width
    assert wide.shape == (1, 15, 21, 1), wide.shape
    assert len(espcn_callback.epoch_psnr) == epochs and np.all(np.isfinite(espcn_callback.epoch_psnr))
    history.results = {"psnr": {"epoch_mean": espcn_callback.epoch_psnr}}
    return history

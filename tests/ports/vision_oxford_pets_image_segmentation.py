"""Port of keras-io `examples/vision/oxford_pets_image_segmentation.py` (Image segmentation with
a U-Net-like architecture, fchollet, Keras 3 edition).

Changed: data (the Oxford Pets images and trimaps -> synthetic uint8 images (n, 32, 32, 3) and
masks (n, 32, 32, 1) of classes 0-2 derived from the image, seeded, n=24 / 8), the tf.data
pipeline -> numpy arrays, `img_size` (160, 160) -> (32, 32), filters [64, 128, 256] /
[256, 128, 64, 32] -> [8, 16, 32] / [32, 16, 8, 4] and the stem 32 -> 8 (CPU test time),
epochs 50 -> 2, batch_size 32 -> 8, the checkpoint written to a temporary folder, display
code dropped, the library passed in as `keras`. `get_model`, compile (Adam 1e-4, sparse
categorical crossentropy on (H, W) masks), `ModelCheckpoint(save_best_only=True)` to a
`.keras` file, fit with validation data and `predict` + argmax masks are the example's; the
saved `.keras` file is loaded back and predicts like the model (an added check).
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    img_size = (32, 32)
    num_classes = 3
    batch_size = 8

    def make_data(n):
        images = rng.integers(0, 256, size=(n,) + img_size + (3,)).astype("uint8")
        masks = (images[..., :1].astype("int64") * num_classes // 256).astype("uint8")
        return images.astype("float32"), masks

    train_images, train_masks = make_data(24)
    val_images, val_masks = make_data(8)

    def get_model(img_size, num_classes):
        inputs = keras.Input(shape=img_size + (3,))

        ### [First half of the network: downsampling inputs] ###

        # Entry block
        x = layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        previous_block_activation = x  # Set aside residual

        # Blocks 1, 2, 3 are identical apart from the feature depth.
        for filters in [8, 16, 32]:
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(filters, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(filters, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

            # Project residual
            residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous_block_activation)
            x = layers.add([x, residual])  # Add back residual
            previous_block_activation = x  # Set aside next residual

        ### [Second half of the network: upsampling inputs] ###

        for filters in [32, 16, 8, 4]:
            x = layers.Activation("relu")(x)
            x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.Activation("relu")(x)
            x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.UpSampling2D(2)(x)

            # Project residual
            residual = layers.UpSampling2D(2)(previous_block_activation)
            residual = layers.Conv2D(filters, 1, padding="same")(residual)
            x = layers.add([x, residual])  # Add back residual
            previous_block_activation = x  # Set aside next residual

        # Add a per-pixel classification layer
        outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)

        # Define the model
        model = keras.Model(inputs, outputs)
        return model

    model = get_model(img_size, num_classes)
    model.summary(print_fn=lambda *a, **k: None)

    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "oxford_segmentation.keras")
        callbacks = [keras.callbacks.ModelCheckpoint(path, save_best_only=True)]
        if on_model:
            on_model(model)
        epochs = 2
        history = model.fit(
            train_images,
            train_masks,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=(val_images, val_masks),
            callbacks=callbacks,
            shuffle=shuffle,
            verbose=0,
        )
        val_preds = model.predict(val_images, verbose=0)
        assert val_preds.shape == (8,) + img_size + (num_classes,), val_preds.shape
        mask = np.argmax(val_preds[0], axis=-1)
        assert mask.shape == img_size, mask.shape

        restored = keras.models.load_model(path)
        best = int(np.argmin(history.history["val_loss"]))
        if best == len(history.history["val_loss"]) - 1:
            np.testing.assert_allclose(restored.predict(val_images, verbose=0), val_preds, rtol=1e-4, atol=1e-5)
    return history

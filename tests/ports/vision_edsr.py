"""Port of keras-io `examples/vision/edsr.py` (Enhanced Deep Residual Networks for single-image
super-resolution, Gitesh Chawda, Keras 3 edition).

Changed: data (DIV2K bicubic x4 from `tensorflow_datasets` -> seeded synthetic uint8 high-res
images (n, 48, 48, 3), n=8 train / 4 validation, whose low-res partners are their 4x4 block
means), crops hr 96 / lr 24 -> hr 32 / lr 8, batches 16 -> 4, `num_filters` 64 -> 16 and
residual blocks 16 -> 2, `steps_per_epoch` 200 -> 4, epochs 100 -> 3, the decay boundary 5000 ->
6 steps (both learning rates are used), `verbose=0`, plots dropped, the library passed in as
`keras`. The `tf.data` pipeline (random crop, random 90-degree rotation, random left-right
flip, batch, repeat) -> the same steps in numpy in a Python generator drawing from a seeded
generator (an endless stream read with `steps_per_epoch`, as the repeated dataset); the
validation set -> centre-free random crops once, as arrays. TensorFlow calls -> `keras.ops`:
`tf.nn.depth_to_space` -> `ops.reshape` / `ops.transpose` inside the same `Lambda`,
`tf.image.psnr(...)[0]` -> the PSNR of the first image of the batch computed with `ops`,
`tf.expand_dims` -> `ops.expand_dims`; `train_step`'s `tf.GradientTape` -> torch autograd,
and its Keras 2 `compiled_loss` / `compiled_metrics` -> Keras 3's `compute_loss` and the metrics
loop of keras-io's torch guide ("loss" tracker updated with the loss, the others with
`(y, y_pred)`). Kept: `EDSRModel` (the `train_step` and `predict_step` overrides), `ResBlock`,
`Upsampling`, `make_model` (Rescaling in and out, Add skips, `Input(shape=(None, None, 3))`),
Adam with `PiecewiseConstantDecay`, compile with "mae" and the PSNR function as a metric, fit
with validation, `predict_step` on single images. Added: an evaluation from the initial
weights (kept in `History.results`, with the predicted images' means).
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit` (the
    training data is a generator, which `fit` does not shuffle).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    def make_pairs(n):
        highres = rng.integers(0, 256, size=(n, 48, 48, 3)).astype("uint8")
        lowres = highres.reshape(n, 12, 4, 12, 4, 3).mean(axis=(2, 4)).round().astype("uint8")
        return lowres, highres

    train = make_pairs(8)
    val = make_pairs(4)

    def random_crop(lowres_img, highres_img, hr_crop_size=32, scale=4):
        lowres_crop_size = hr_crop_size // scale
        lowres_img_shape = lowres_img.shape[:2]
        lowres_width = int(rng.uniform(0, lowres_img_shape[1] - lowres_crop_size + 1))
        lowres_height = int(rng.uniform(0, lowres_img_shape[0] - lowres_crop_size + 1))
        highres_width = lowres_width * scale
        highres_height = lowres_height * scale
        lowres_img_cropped = lowres_img[
            lowres_height : lowres_height + lowres_crop_size,
            lowres_width : lowres_width + lowres_crop_size,
        ]
        highres_img_cropped = highres_img[
            highres_height : highres_height + hr_crop_size,
            highres_width : highres_width + hr_crop_size,
        ]
        return lowres_img_cropped, highres_img_cropped

    def random_rotate(lowres_img, highres_img):
        rn = int(rng.uniform(0, 4))
        return np.rot90(lowres_img, rn), np.rot90(highres_img, rn)

    def flip_left_right(lowres_img, highres_img):
        if rng.uniform() < 0.5:
            return lowres_img, highres_img
        return lowres_img[:, ::-1], highres_img[:, ::-1]

    def dataset_object(pairs, training=True):
        def examples():
            for lowres, highres in zip(*pairs):
                lowres, highres = random_crop(lowres, highres, scale=4)
                if training:
                    lowres, highres = random_rotate(lowres, highres)
                    lowres, highres = flip_left_right(lowres, highres)
                yield lowres, highres

        def batches(items):
            items = list(items)
            for i in range(0, len(items), 4):
                chunk = items[i : i + 4]
                yield (np.stack([c[0] for c in chunk]).astype("float32"), np.stack([c[1] for c in chunk]).astype("float32"))

        if not training:
            return next(batches(examples()))

        def repeated():
            while True:
                yield from batches(examples())

        return repeated()

    train_ds = dataset_object(train, training=True)
    val_ds = dataset_object(val, training=False)

    def PSNR(super_resolution, high_resolution):
        """Compute the peak signal-to-noise ratio, measures quality of image."""
        # Max value of pixel is 255
        mse = ops.mean(ops.square(high_resolution - super_resolution), axis=(1, 2, 3))
        psnr_value = (10.0 * ops.log10((255.0**2) / mse))[0]
        return psnr_value

    class EDSRModel(keras.Model):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            x, y = data

            self.zero_grad()
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value
            # (the loss function is configured in `compile()`)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)

            # Compute gradients
            loss.backward()
            trainable_vars = self.trainable_variables
            gradients = [v.value.grad for v in trainable_vars]
            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_vars)
            # Update metrics (includes the metric that tracks the loss)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            # Return a dict mapping metric names to current value
            return {m.name: m.result() for m in self.metrics}

        def predict_step(self, x):
            # Adding dummy dimension using ops.expand_dims and converting to float32 using ops.cast
            x = ops.cast(ops.expand_dims(x, axis=0), dtype="float32")
            # Passing low resolution image to model
            super_resolution_img = self(x, training=False)
            # Clips the tensor from min(0) to max(255)
            super_resolution_img = ops.clip(super_resolution_img, 0, 255)
            # Rounds the values of a tensor to the nearest integer
            super_resolution_img = ops.round(super_resolution_img)
            # Removes dimensions of size 1 from the shape of a tensor and converting to uint8
            super_resolution_img = ops.squeeze(ops.cast(super_resolution_img, dtype="uint8"), axis=0)
            return super_resolution_img

    def depth_to_space(x, block_size):
        shape = ops.shape(x)
        height, width, channels = shape[1], shape[2], shape[3]
        x = ops.reshape(x, (-1, height, width, block_size, block_size, channels // block_size**2))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, height * block_size, width * block_size, channels // block_size**2))

    # Residual Block
    def ResBlock(inputs):
        x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
        x = layers.Conv2D(16, 3, padding="same")(x)
        x = layers.Add()([inputs, x])
        return x

    # Upsampling Block
    def Upsampling(inputs, factor=2, **kwargs):
        x = layers.Conv2D(16 * (factor**2), 3, padding="same", **kwargs)(inputs)
        x = layers.Lambda(lambda x: depth_to_space(x, block_size=factor))(x)
        x = layers.Conv2D(16 * (factor**2), 3, padding="same", **kwargs)(x)
        x = layers.Lambda(lambda x: depth_to_space(x, block_size=factor))(x)
        return x

    def make_model(num_filters, num_of_residual_blocks):
        # Flexible Inputs to input_layer
        input_layer = layers.Input(shape=(None, None, 3))
        # Scaling Pixel Values
        x = layers.Rescaling(scale=1.0 / 255)(input_layer)
        x = x_new = layers.Conv2D(num_filters, 3, padding="same")(x)

        # residual blocks
        for _ in range(num_of_residual_blocks):
            x_new = ResBlock(x_new)

        x_new = layers.Conv2D(num_filters, 3, padding="same")(x_new)
        x = layers.Add()([x, x_new])

        x = Upsampling(x)
        x = layers.Conv2D(3, 3, padding="same")(x)

        output_layer = layers.Rescaling(scale=255)(x)
        return EDSRModel(input_layer, output_layer)

    model = make_model(num_filters=16, num_of_residual_blocks=2)

    # Using adam optimizer with initial learning rate as 1e-4, changing learning rate after 6 steps to 5e-5
    optim_edsr = keras.optimizers.Adam(
        learning_rate=keras.optimizers.schedules.PiecewiseConstantDecay(boundaries=[6], values=[1e-4, 5e-5])
    )
    # Compiling model with loss as mean absolute error(L1 Loss) and metric as psnr
    model.compile(optimizer=optim_edsr, loss="mae", metrics=[PSNR])
    on_model(model)
    results["initial"] = model.evaluate(*val_ds, verbose=0, return_dict=True)
    # Training for more epochs will improve results
    history = model.fit(train_ds, epochs=3, steps_per_epoch=4, validation_data=val_ds, verbose=0, shuffle=shuffle)

    preds = [model.predict_step(lowres) for lowres in val_ds[0][:2]]
    results["inference"] = {
        "mean": [float(ops.convert_to_numpy(p).astype("float32").mean()) for p in preds],
        "shape": [float(d) for d in ops.shape(preds[0])],
        "learning_rate": [float(ops.convert_to_numpy(optim_edsr.learning_rate))],
    }
    history.results = results
    return history

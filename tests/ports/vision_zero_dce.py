"""Port of keras-io `examples/vision/zero_dce.py` (Zero-DCE for low-light image enhancement,
Soumik Rakshit).

Changed: data (the LOL dataset's PNGs, read and resized by `tf.data` -> seeded synthetic
float32 images (n, 32, 32, 3) in [0, 0.3] (dark), n=16 train / 8 validation / 2 test),
IMAGE_SIZE 256 -> 32, BATCH_SIZE 16 -> 4, epochs 100 -> 3, `verbose=0`, plots and PIL
dropped (the enhanced test images' means are kept in `History.results`), the library passed in
as `keras`. TensorFlow calls -> `keras.ops`: `tf.reduce_mean` / `tf.square` / `tf.sqrt` ->
`ops.mean` / `ops.square` / `ops.sqrt`, `tf.nn.avg_pool2d(..., padding="VALID")` ->
`ops.average_pool(..., padding="valid")`, `tf.nn.conv2d(..., padding="SAME")` with the
example's (1, 3, 1, 3) kernels -> `ops.conv(..., padding="same")`, `tf.shape` / `tf.cast` ->
`ops.shape` / `ops.cast`; `train_step`'s `tf.GradientTape` -> torch autograd as keras-io's
torch guide does; Keras 3 hands a step the batch `(x,)` of x-only data, so the steps unpack it
as Keras 3's DCGAN example does; the `save_weights` / `load_weights` overrides take Keras 3's
arguments (`save_format` / `options` are gone) and are exercised by a round trip. Kept:
`build_dce_net` (a Functional of 7 Conv2D with skip Concatenates on `Input([None, None, 3])`),
the four losses (`SpatialConsistencyLoss` a `keras.losses.Loss` with `reduction="none"`),
`ZeroDCE` (a `compile(learning_rate)` override setting its own Adam, `get_enhanced_image`,
`call`, `compute_losses`, `train_step` / `test_step` returning the five losses), fit with
validation, inference. Added: the steps also return the total as "loss" (the ports tests read
History's "loss"), and an evaluation from the initial weights (kept in `History.results`).
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    IMAGE_SIZE = 32
    BATCH_SIZE = 4

    def low_light(n):
        return (rng.uniform(0, 0.3, size=(n, IMAGE_SIZE, IMAGE_SIZE, 3))).astype("float32")

    train_images, val_images, test_images = low_light(16), low_light(8), low_light(2)

    def build_dce_net():
        input_img = keras.Input(shape=[None, None, 3])
        conv1 = layers.Conv2D(32, (3, 3), strides=(1, 1), activation="relu", padding="same")(input_img)
        conv2 = layers.Conv2D(32, (3, 3), strides=(1, 1), activation="relu", padding="same")(conv1)
        conv3 = layers.Conv2D(32, (3, 3), strides=(1, 1), activation="relu", padding="same")(conv2)
        conv4 = layers.Conv2D(32, (3, 3), strides=(1, 1), activation="relu", padding="same")(conv3)
        int_con1 = layers.Concatenate(axis=-1)([conv4, conv3])
        conv5 = layers.Conv2D(32, (3, 3), strides=(1, 1), activation="relu", padding="same")(int_con1)
        int_con2 = layers.Concatenate(axis=-1)([conv5, conv2])
        conv6 = layers.Conv2D(32, (3, 3), strides=(1, 1), activation="relu", padding="same")(int_con2)
        int_con3 = layers.Concatenate(axis=-1)([conv6, conv1])
        x_r = layers.Conv2D(24, (3, 3), strides=(1, 1), activation="tanh", padding="same")(int_con3)
        return keras.Model(inputs=input_img, outputs=x_r)

    def color_constancy_loss(x):
        mean_rgb = ops.mean(x, axis=(1, 2), keepdims=True)
        mr, mg, mb = mean_rgb[:, :, :, 0], mean_rgb[:, :, :, 1], mean_rgb[:, :, :, 2]
        d_rg = ops.square(mr - mg)
        d_rb = ops.square(mr - mb)
        d_gb = ops.square(mb - mg)
        return ops.sqrt(ops.square(d_rg) + ops.square(d_rb) + ops.square(d_gb))

    def exposure_loss(x, mean_val=0.6):
        x = ops.mean(x, axis=3, keepdims=True)
        mean = ops.average_pool(x, pool_size=16, strides=16, padding="valid")
        return ops.mean(ops.square(mean - mean_val))

    def illumination_smoothness_loss(x):
        batch_size = ops.shape(x)[0]
        h_x = ops.shape(x)[1]
        w_x = ops.shape(x)[2]
        count_h = (ops.shape(x)[2] - 1) * ops.shape(x)[3]
        count_w = ops.shape(x)[2] * (ops.shape(x)[3] - 1)
        h_tv = ops.sum(ops.square((x[:, 1:, :, :] - x[:, : h_x - 1, :, :])))
        w_tv = ops.sum(ops.square((x[:, :, 1:, :] - x[:, :, : w_x - 1, :])))
        batch_size = ops.cast(batch_size, dtype="float32")
        count_h = ops.cast(count_h, dtype="float32")
        count_w = ops.cast(count_w, dtype="float32")
        return 2 * (h_tv / count_h + w_tv / count_w) / batch_size

    class SpatialConsistencyLoss(keras.losses.Loss):
        def __init__(self, **kwargs):
            super().__init__(reduction="none")

            self.left_kernel = ops.convert_to_tensor([[[[0, 0, 0]], [[-1, 1, 0]], [[0, 0, 0]]]], dtype="float32")
            self.right_kernel = ops.convert_to_tensor([[[[0, 0, 0]], [[0, 1, -1]], [[0, 0, 0]]]], dtype="float32")
            self.up_kernel = ops.convert_to_tensor([[[[0, -1, 0]], [[0, 1, 0]], [[0, 0, 0]]]], dtype="float32")
            self.down_kernel = ops.convert_to_tensor([[[[0, 0, 0]], [[0, 1, 0]], [[0, -1, 0]]]], dtype="float32")

        def call(self, y_true, y_pred):
            original_mean = ops.mean(y_true, 3, keepdims=True)
            enhanced_mean = ops.mean(y_pred, 3, keepdims=True)
            original_pool = ops.average_pool(original_mean, pool_size=4, strides=4, padding="valid")
            enhanced_pool = ops.average_pool(enhanced_mean, pool_size=4, strides=4, padding="valid")

            d_original_left = ops.conv(original_pool, self.left_kernel, strides=1, padding="same")
            d_original_right = ops.conv(original_pool, self.right_kernel, strides=1, padding="same")
            d_original_up = ops.conv(original_pool, self.up_kernel, strides=1, padding="same")
            d_original_down = ops.conv(original_pool, self.down_kernel, strides=1, padding="same")

            d_enhanced_left = ops.conv(enhanced_pool, self.left_kernel, strides=1, padding="same")
            d_enhanced_right = ops.conv(enhanced_pool, self.right_kernel, strides=1, padding="same")
            d_enhanced_up = ops.conv(enhanced_pool, self.up_kernel, strides=1, padding="same")
            d_enhanced_down = ops.conv(enhanced_pool, self.down_kernel, strides=1, padding="same")

            d_left = ops.square(d_original_left - d_enhanced_left)
            d_right = ops.square(d_original_right - d_enhanced_right)
            d_up = ops.square(d_original_up - d_enhanced_up)
            d_down = ops.square(d_original_down - d_enhanced_down)
            return d_left + d_right + d_up + d_down

    class ZeroDCE(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dce_model = build_dce_net()

        def compile(self, learning_rate, **kwargs):
            super().compile(**kwargs)
            self.optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
            self.spatial_constancy_loss = SpatialConsistencyLoss(reduction="none")

        def get_enhanced_image(self, data, output):
            r1 = output[:, :, :, :3]
            r2 = output[:, :, :, 3:6]
            r3 = output[:, :, :, 6:9]
            r4 = output[:, :, :, 9:12]
            r5 = output[:, :, :, 12:15]
            r6 = output[:, :, :, 15:18]
            r7 = output[:, :, :, 18:21]
            r8 = output[:, :, :, 21:24]
            x = data + r1 * (ops.square(data) - data)
            x = x + r2 * (ops.square(x) - x)
            x = x + r3 * (ops.square(x) - x)
            enhanced_image = x + r4 * (ops.square(x) - x)
            x = enhanced_image + r5 * (ops.square(enhanced_image) - enhanced_image)
            x = x + r6 * (ops.square(x) - x)
            x = x + r7 * (ops.square(x) - x)
            enhanced_image = x + r8 * (ops.square(x) - x)
            return enhanced_image

        def call(self, data):
            dce_net_output = self.dce_model(data)
            return self.get_enhanced_image(data, dce_net_output)

        def compute_losses(self, data, output):
            enhanced_image = self.get_enhanced_image(data, output)
            loss_illumination = 200 * illumination_smoothness_loss(output)
            loss_spatial_constancy = ops.mean(self.spatial_constancy_loss(enhanced_image, data))
            loss_color_constancy = 5 * ops.mean(color_constancy_loss(enhanced_image))
            loss_exposure = 10 * ops.mean(exposure_loss(enhanced_image))
            total_loss = loss_illumination + loss_spatial_constancy + loss_color_constancy + loss_exposure
            return {
                "total_loss": total_loss,
                "illumination_smoothness_loss": loss_illumination,
                "spatial_constancy_loss": loss_spatial_constancy,
                "color_constancy_loss": loss_color_constancy,
                "exposure_loss": loss_exposure,
            }

        def train_step(self, data):
            if isinstance(data, tuple):
                data = data[0]
            self.zero_grad()
            output = self.dce_model(data)
            losses = self.compute_losses(data, output)
            losses["total_loss"].backward()
            trainable_weights = self.dce_model.trainable_weights
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            return {**losses, "loss": losses["total_loss"]}

        def test_step(self, data):
            if isinstance(data, tuple):
                data = data[0]
            output = self.dce_model(data)
            losses = self.compute_losses(data, output)
            return {**losses, "loss": losses["total_loss"]}

        def save_weights(self, filepath, overwrite=True, **kwargs):
            """While saving the weights, we simply save the weights of the DCE-Net"""
            self.dce_model.save_weights(filepath, overwrite=overwrite, **kwargs)

        def load_weights(self, filepath, skip_mismatch=False, **kwargs):
            """While loading the weights, we simply load the weights of the DCE-Net"""
            self.dce_model.load_weights(filepath=filepath, skip_mismatch=skip_mismatch, **kwargs)

    zero_dce_model = ZeroDCE()
    zero_dce_model.compile(learning_rate=1e-4)
    zero_dce_model(train_images[:1])  # built before the initial weights are recorded (the parity test)
    on_model(zero_dce_model)
    results["initial"] = zero_dce_model.evaluate(val_images, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
    history = zero_dce_model.fit(
        train_images, batch_size=BATCH_SIZE, validation_data=val_images, epochs=3, verbose=0, shuffle=shuffle
    )

    def infer(original_image):
        image = keras.utils.img_to_array(original_image)
        image = image.astype("float32") / 255.0
        image = np.expand_dims(image, axis=0)
        output_image = zero_dce_model(image)
        output_image = ops.cast((ops.convert_to_numpy(output_image)[0, :, :, :] * 255), dtype="uint8")
        return ops.convert_to_numpy(output_image)

    enhanced = [infer((image * 255).astype("uint8")) for image in test_images]
    results["inference"] = {"mean": [float(e.mean()) for e in enhanced]}

    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dce.weights.h5")
        zero_dce_model.save_weights(path)
        before = ops.convert_to_numpy(zero_dce_model(test_images))
        zero_dce_model.load_weights(path)
        after = ops.convert_to_numpy(zero_dce_model(test_images))
    assert np.allclose(before, after)
    history.results = results
    return history

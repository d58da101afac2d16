"""Port of keras-io `examples/vision/focal_modulation_network.py` (Focal Modulation: A
replacement for Self-Attention, Aritra Roy Gosthipaty and Ritwik Raha, Keras 3 edition).

Changed: data (`keras.datasets.cifar10` -> seeded synthetic uint8 images (n, 32, 32, 3) with
int labels (n, 1) in 0-9, n=48 train / 16 val / 16 test; TRAIN_SLICE 40000 -> 48), BATCH_SIZE
128 -> 16, EPOCHS 20 -> 3, IMAGE_SIZE 48 -> 16, embed_dim 64 -> 16 and depths [2, 3, 2] ->
[1, 2, 1] (the model's defaults, passed in), `verbose=0`; the example's unseeded
`keras.utils.set_random_seed(42)` at import is left to the caller (the ports tests seed);
`FocalDataset`'s shuffle follows `shuffle`; the plots dropped: `display_grid` returns the
arrays it would show (the gates and the modulator norm, upsampled), and `TrainMonitor` keeps
their shapes in `History.results`. Kept: `PyDataset` batches of backend tensors, `PatchEmbed`
(strided Conv2D, Reshape, LayerNormalization returning the feature map's dims as well),
the `MLP` Sequential, `FocalModulationLayer` (`ops.split`, grouped depthwise Conv2D behind
ZeroPadding2D in Sequentials, keepdims GlobalAveragePooling2D, gates kept on the layer),
`FocalModulationBlock`, `BasicLayer`, the subclassed `FocalModulationNetwork` (Rescaling, and
with `training` Resizing + RandomCrop + RandomFlip, else Resizing), the `WarmUpCosine`
schedule, AdamW with `clipnorm`, fit with validation and the callback, evaluate. Added: an
evaluation from the initial weights (kept in `History.results`).
"""

from typing import Optional

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    # --- GLOBAL CONFIGURATION ---
    TRAIN_SLICE = 48
    BATCH_SIZE = 16
    INPUT_SHAPE = (32, 32, 3)
    IMAGE_SIZE = 16
    NUM_CLASSES = 10

    LEARNING_RATE = 1e-4
    WEIGHT_DECAY = 1e-4
    EPOCHS = 3

    x_train = rng.integers(0, 256, size=(64,) + INPUT_SHAPE).astype("uint8")
    y_train = rng.integers(0, NUM_CLASSES, size=(64, 1)).astype("uint8")
    x_test = rng.integers(0, 256, size=(16,) + INPUT_SHAPE).astype("uint8")
    y_test = rng.integers(0, NUM_CLASSES, size=(16, 1)).astype("uint8")
    (x_train, y_train), (x_val, y_val) = (
        (x_train[:TRAIN_SLICE], y_train[:TRAIN_SLICE]),
        (x_train[TRAIN_SLICE:], y_train[TRAIN_SLICE:]),
    )

    class FocalDataset(keras.utils.PyDataset):
        def __init__(self, x_data, y_data, batch_size, shuffle=False, **kwargs):
            super().__init__(**kwargs)
            self.x_data = x_data
            self.y_data = y_data
            self.batch_size = batch_size
            self.shuffle = shuffle
            self.indices = np.arange(len(x_data))
            if self.shuffle:
                np.random.shuffle(self.indices)

        def __len__(self):
            return int(np.ceil(len(self.x_data) / self.batch_size))

        def __getitem__(self, idx):
            start = idx * self.batch_size
            end = min((idx + 1) * self.batch_size, len(self.x_data))
            batch_indices = self.indices[start:end]

            x_batch = self.x_data[batch_indices]
            y_batch = self.y_data[batch_indices]

            # Convert to backend-native tensors
            x_batch = ops.convert_to_tensor(x_batch, dtype="float32")
            y_batch = ops.convert_to_tensor(y_batch, dtype="int32")

            return x_batch, y_batch

        def on_epoch_end(self):
            if self.shuffle:
                np.random.shuffle(self.indices)

    train_ds = FocalDataset(x_train, y_train, batch_size=BATCH_SIZE, shuffle=shuffle)
    val_ds = FocalDataset(x_val, y_val, batch_size=BATCH_SIZE, shuffle=False)
    test_ds = FocalDataset(x_test, y_test, batch_size=BATCH_SIZE, shuffle=False)

    class PatchEmbed(layers.Layer):
        """Image patch embedding layer, also acts as the down-sampling layer."""

        def __init__(self, image_size=(224, 224), patch_size=(4, 4), embed_dim=96, **kwargs):
            super().__init__(**kwargs)
            self.patch_resolution = [
                image_size[0] // patch_size[0],
                image_size[1] // patch_size[1],
            ]
            self.proj = layers.Conv2D(filters=embed_dim, kernel_size=patch_size, strides=patch_size)
            self.flatten = layers.Reshape(target_shape=(-1, embed_dim))
            self.norm = layers.LayerNormalization(epsilon=1e-7)

        def call(self, x):
            x = self.proj(x)
            shape = ops.shape(x)
            height, width, channels = shape[1], shape[2], shape[3]
            x = self.norm(self.flatten(x))
            return x, height, width, channels

    def MLP(
        in_features: int,
        hidden_features: Optional[int] = None,
        out_features: Optional[int] = None,
        mlp_drop_rate: float = 0.0,
    ):
        hidden_features = hidden_features or in_features
        out_features = out_features or in_features
        return keras.Sequential(
            [
                layers.Dense(units=hidden_features, activation="gelu"),
                layers.Dense(units=out_features),
                layers.Dropout(rate=mlp_drop_rate),
            ]
        )

    class FocalModulationLayer(layers.Layer):
        """The Focal Modulation layer includes query projection & context aggregation."""

        def __init__(self, dim, focal_window, focal_level, focal_factor=2, proj_drop_rate=0.0, **kwargs):
            super().__init__(**kwargs)
            self.dim, self.focal_level = dim, focal_level
            self.initial_proj = layers.Dense(units=(2 * dim) + (focal_level + 1))
            self.focal_layers = [
                keras.Sequential(
                    [
                        layers.ZeroPadding2D(padding=((focal_factor * i + focal_window) // 2)),
                        layers.Conv2D(
                            filters=dim,
                            kernel_size=(focal_factor * i + focal_window),
                            activation="gelu",
                            groups=dim,
                            use_bias=False,
                        ),
                    ]
                )
                for i in range(focal_level)
            ]
            self.gap = layers.GlobalAveragePooling2D(keepdims=True)
            self.mod_proj = layers.Conv2D(filters=dim, kernel_size=1)
            self.proj = layers.Dense(units=dim)
            self.proj_drop = layers.Dropout(proj_drop_rate)

        def call(self, x, training=None):
            x_proj = self.initial_proj(x)
            query, context, gates = ops.split(x_proj, [self.dim, 2 * self.dim], axis=-1)

            # Apply Softmax for numerical stability
            gates = ops.softmax(gates, axis=-1)
            self.gates = gates

            context = self.focal_layers[0](context)
            context_all = context * gates[..., 0:1]
            for i in range(1, self.focal_level):
                context = self.focal_layers[i](context)
                context_all = context_all + (context * gates[..., i : i + 1])

            context_global = ops.gelu(self.gap(context))
            context_all = context_all + (context_global * gates[..., self.focal_level :])

            self.modulator = self.mod_proj(context_all)
            x_out = query * self.modulator
            return self.proj_drop(self.proj(x_out), training=training)

    class FocalModulationBlock(layers.Layer):
        """Combine FFN and Focal Modulation Layer."""

        def __init__(self, dim, mlp_ratio=4.0, drop=0.0, focal_level=1, focal_window=3, **kwargs):
            super().__init__(**kwargs)
            self.norm1 = layers.LayerNormalization(epsilon=1e-5)
            self.modulation = FocalModulationLayer(dim, focal_window, focal_level, proj_drop_rate=drop)
            self.norm2 = layers.LayerNormalization(epsilon=1e-5)
            self.mlp = MLP(dim, int(dim * mlp_ratio), mlp_drop_rate=drop)

        def call(self, x, height=None, width=None, channels=None, training=None):
            res = x
            x = ops.reshape(x, (-1, height, width, channels))
            x = self.modulation(x, training=training)
            x = ops.reshape(x, (-1, height * width, channels))
            x = res + x
            return x + self.mlp(self.norm2(x), training=training)

    class BasicLayer(layers.Layer):
        """Collection of Focal Modulation Blocks."""

        def __init__(
            self,
            dim,
            out_dim,
            input_res,
            depth,
            mlp_ratio=4.0,
            drop=0.0,
            downsample=None,
            focal_level=1,
            focal_window=1,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.blocks = [FocalModulationBlock(dim, mlp_ratio, drop, focal_level, focal_window) for _ in range(depth)]
            self.downsample = (
                downsample(image_size=input_res, patch_size=(2, 2), embed_dim=out_dim) if downsample else None
            )

        def call(self, x, height=None, width=None, channels=None, training=None):
            for block in self.blocks:
                x = block(x, height=height, width=width, channels=channels, training=training)
            if self.downsample:
                x = ops.reshape(x, (-1, height, width, channels))
                x, height, width, channels = self.downsample(x)
            return x, height, width, channels

    class FocalModulationNetwork(keras.Model):
        """The Focal Modulation Network."""

        def __init__(
            self,
            image_size=(48, 48),
            patch_size=(4, 4),
            num_classes=10,
            embed_dim=64,
            depths=[2, 3, 2],
            **kwargs,
        ):
            super().__init__(**kwargs)
            # Preprocessing integrated in model for backend-agnostic behavior
            self.rescaling = layers.Rescaling(1.0 / 255.0)
            self.resizing_larger = layers.Resizing(image_size[0] + 10, image_size[1] + 10)
            self.random_crop = layers.RandomCrop(image_size[0], image_size[1])
            self.resizing_target = layers.Resizing(image_size[0], image_size[1])
            self.random_flip = layers.RandomFlip("horizontal")

            self.patch_embed = PatchEmbed(image_size, patch_size, embed_dim)
            self.basic_layers = []
            for i in range(len(depths)):
                d = embed_dim * (2**i)
                self.basic_layers.append(
                    BasicLayer(
                        dim=d,
                        out_dim=d * 2 if i < len(depths) - 1 else None,
                        input_res=(image_size[0] // (2**i), image_size[1] // (2**i)),
                        depth=depths[i],
                        downsample=PatchEmbed if i < len(depths) - 1 else None,
                    )
                )
            self.norm = layers.LayerNormalization(epsilon=1e-7)
            self.avgpool = layers.GlobalAveragePooling1D()
            self.head = layers.Dense(num_classes, activation="softmax")

        def call(self, x, training=None):
            x = self.rescaling(x)
            if training:
                x = self.resizing_larger(x)
                x = self.random_crop(x)
                x = self.random_flip(x)
            else:
                x = self.resizing_target(x)

            x, h, w, c = self.patch_embed(x)
            for layer in self.basic_layers:
                x, h, w, c = layer(x, height=h, width=w, channels=c, training=training)
            return self.head(self.avgpool(self.norm(x)))

    def display_grid(test_images, gates, modulator):
        """Returns the image, the gates and the modulator norm the example overlays."""
        test_images_np = ops.convert_to_numpy(test_images) / 255.0
        gates_np = ops.convert_to_numpy(gates)
        mod_np = ops.convert_to_numpy(ops.norm(modulator, axis=-1))
        return test_images_np, gates_np, mod_np

    # Fetch test batch for callback
    test_batch_images, _ = test_ds[0]
    shown = []

    class TrainMonitor(keras.callbacks.Callback):
        def __init__(self, epoch_interval=10):
            super().__init__()
            self.epoch_interval = epoch_interval
            self.upsampler = layers.UpSampling2D(size=(4, 4), interpolation="bilinear")

        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % self.epoch_interval == 0:
                _ = self.model(test_batch_images, training=False)
                layer = self.model.basic_layers[1].blocks[-1].modulation
                images, gates, modulator = display_grid(
                    test_batch_images,
                    self.upsampler(layer.gates),
                    self.upsampler(layer.modulator),
                )
                shown.append([float(d) for d in images.shape + gates.shape + modulator.shape])

    class WarmUpCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, lr_base, total_steps, warmup_steps):
            super().__init__()
            self.lr_base, self.total_steps, self.warmup_steps = (
                lr_base,
                total_steps,
                warmup_steps,
            )

        def __call__(self, step):
            step = ops.cast(step, "float32")
            cos_lr = (
                0.5
                * self.lr_base
                * (1 + ops.cos(np.pi * (step - self.warmup_steps) / (self.total_steps - self.warmup_steps)))
            )
            warmup_lr = (self.lr_base / self.warmup_steps) * step
            return ops.where(
                step < self.warmup_steps,
                warmup_lr,
                ops.where(step > self.total_steps, 0.0, cos_lr),
            )

    total_steps = (len(x_train) // BATCH_SIZE) * EPOCHS
    scheduled_lrs = WarmUpCosine(LEARNING_RATE, total_steps, int(total_steps * 0.15))

    model = FocalModulationNetwork(image_size=(IMAGE_SIZE, IMAGE_SIZE), embed_dim=16, depths=[1, 2, 1])
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=scheduled_lrs, weight_decay=WEIGHT_DECAY, clipnorm=1.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model(test_batch_images[:1])  # built before the initial weights are recorded (the parity test)
    on_model(model)
    results["initial"] = model.evaluate(test_ds, verbose=0, return_dict=True)

    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=EPOCHS,
        callbacks=[TrainMonitor(epoch_interval=1)],
        verbose=0,
    )
    results["test"] = model.evaluate(test_ds, verbose=0, return_dict=True)

    test_images, test_labels = next(iter(test_ds))
    _ = model(test_images, training=False)
    target_layer = model.basic_layers[1].blocks[-1].modulation
    upsampler = layers.UpSampling2D(size=(4, 4), interpolation="bilinear")
    images, gates, modulator = display_grid(test_images, upsampler(target_layer.gates), upsampler(target_layer.modulator))
    results["monitor"] = {"shapes": shown + [[float(d) for d in images.shape + gates.shape + modulator.shape]],
                          "modulator_norm": [float(modulator.mean())]}
    history.results = results
    return history

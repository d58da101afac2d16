"""Port of keras-io `examples/vision/masked_image_modeling.py` (Masked image modeling with
Autoencoders, Aritra Roy Gosthipaty and Sayak Paul).

Changed: data (CIFAR-10 -> seeded synthetic uint8 images (n, 16, 16, 3) instead of
(n, 32, 32, 3): 64 train, 16 validation, 16 test, labels 0-9 in turn), sizes (`IMAGE_SIZE`
48 -> 24, so 16 patches of 6x6; encoder 128 -> 64 wide and 6 -> 2 layers; decoder 64 -> 32
wide and 2 -> 1 layers), `BATCH_SIZE` 256 -> 16, epochs 100 -> 2 (pretraining) and 50 -> 2
(linear probing), `verbose=0`, the patch and masking visualisations, the learning-rate plot
and the monitor's plots dropped (the monitor still runs its reconstruction at epoch 0 and
keeps its mean), the library passed in as `keras`; the module-level `SEED = 42` set-up is left
to the caller (the tests seed). `tf.data` pipelines -> arrays given to `fit` / `evaluate`
with `batch_size` (pretraining), and a `PyDataset` that applies the augmentation model to each
batch (linear probing, the original's `dataset.map`). TensorFlow calls -> `keras.ops`:
`tf.image.extract_patches` -> `ops.image.extract_patches`, `tf.gather(..., batch_dims=1)` ->
`ops.take_along_axis`, `tf.argsort(tf.random.uniform(...))` -> `ops.argsort` of
`keras.random.uniform`, `tf.repeat` / `tf.tile` / `tf.concat` / `tf.cos` / `tf.where` -> their
`ops` names, the mask token's `tf.Variable(tf.random.normal(...))` -> `keras.Variable` of
`keras.random.normal`; `tf.nn.gelu` -> `ops.gelu`; `train_step`'s `tf.GradientTape` -> torch
autograd over the same five variable lists; Keras 2's `compiled_loss` / `compiled_metrics` ->
`compute_loss` and the metrics loop of keras-io's torch guide; `tfa.optimizers.AdamW` ->
`keras.optimizers.AdamW`; the MAE is built before it trains (its augmentation models,
patch layers and encoder called or built, the model marked built, the compiled loss and
metrics built by one call each), as Keras 3 on torch cannot build a model without `call()`
from its first batch. Kept: the augmentation models (Rescaling, Resizing, RandomCrop,
RandomFlip), `Patches`, `PatchEncoder` (random masking, `downstream` switch, sublayers
created in `build`), the MAE encoder and decoder, `MaskedAutoencoder` (`calculate_loss`,
`train_step`, `test_step` overrides), the `TrainMonitor` callback, the `WarmUpCosine`
schedule, AdamW, the evaluation, and the linear probe (frozen layers, BatchNormalization,
SGD with momentum and the schedule). Returned: the pretraining History; `History.results`
keeps the evaluations of both models from their initial weights, and `History.fits` the
monitor's reconstruction mean and the linear probe's History.
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the pretraining History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)

    # DATA
    BATCH_SIZE = 16
    INPUT_SHAPE = (16, 16, 3)
    NUM_CLASSES = 10

    # OPTIMIZER
    LEARNING_RATE = 5e-3
    WEIGHT_DECAY = 1e-4

    # PRETRAINING
    EPOCHS = 2

    # AUGMENTATION
    IMAGE_SIZE = 24  # We will resize input images to this size.
    PATCH_SIZE = 6  # Size of the patches to be extracted from the input images.
    NUM_PATCHES = (IMAGE_SIZE // PATCH_SIZE) ** 2
    MASK_PROPORTION = 0.75  # We have found 75% masking to give us the best results.

    # ENCODER and DECODER
    LAYER_NORM_EPS = 1e-6
    ENC_PROJECTION_DIM = 64
    DEC_PROJECTION_DIM = 32
    ENC_NUM_HEADS = 4
    ENC_LAYERS = 2
    DEC_NUM_HEADS = 4
    DEC_LAYERS = 1  # The decoder is lightweight but should be reasonably deep for reconstruction.
    ENC_TRANSFORMER_UNITS = [ENC_PROJECTION_DIM * 2, ENC_PROJECTION_DIM]  # Size of the transformer layers.
    DEC_TRANSFORMER_UNITS = [DEC_PROJECTION_DIM * 2, DEC_PROJECTION_DIM]

    def make(n):
        y = (np.arange(n) % NUM_CLASSES).reshape(n, 1)
        x = rng.uniform(0, 255, (n,) + INPUT_SHAPE) * 0.5 + 12.0 * y.reshape(n, 1, 1, 1)
        return x.astype("uint8"), y.astype("uint8")

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = make(64), make(16), make(16)

    def get_train_augmentation_model():
        model = keras.Sequential(
            [
                layers.Rescaling(1 / 255.0),
                layers.Resizing(INPUT_SHAPE[0] + 20, INPUT_SHAPE[0] + 20),
                layers.RandomCrop(IMAGE_SIZE, IMAGE_SIZE),
                layers.RandomFlip("horizontal"),
            ],
            name="train_data_augmentation",
        )
        return model

    def get_test_augmentation_model():
        model = keras.Sequential(
            [
                layers.Rescaling(1 / 255.0),
                layers.Resizing(IMAGE_SIZE, IMAGE_SIZE),
            ],
            name="test_data_augmentation",
        )
        return model

    class Patches(layers.Layer):
        def __init__(self, patch_size=PATCH_SIZE, **kwargs):
            super().__init__(**kwargs)
            self.patch_size = patch_size

            # Assuming the image has three channels each patch would be
            # of size (patch_size, patch_size, 3).
            self.resize = layers.Reshape((-1, patch_size * patch_size * 3))

        def call(self, images):
            # Create patches from the input images
            patches = ops.image.extract_patches(images, size=self.patch_size, strides=self.patch_size, padding="valid")

            # Reshape the patches to (batch, num_patches, patch_area) and return it.
            patches = self.resize(patches)
            return patches

        # taken from https://stackoverflow.com/a/58082878/10319735
        def reconstruct_from_patch(self, patch):
            # This utility function takes patches from a *single* image and
            # reconstructs it back into the image. This is useful for the train
            # monitor callback.
            num_patches = patch.shape[0]
            n = int(np.sqrt(num_patches))
            patch = ops.reshape(patch, (num_patches, self.patch_size, self.patch_size, 3))
            rows = ops.split(patch, n, axis=0)
            rows = [ops.concatenate(ops.unstack(x), axis=1) for x in rows]
            reconstructed = ops.concatenate(rows, axis=0)
            return reconstructed

    class PatchEncoder(layers.Layer):
        def __init__(
            self,
            patch_size=PATCH_SIZE,
            projection_dim=ENC_PROJECTION_DIM,
            mask_proportion=MASK_PROPORTION,
            downstream=False,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.patch_size = patch_size
            self.projection_dim = projection_dim
            self.mask_proportion = mask_proportion
            self.downstream = downstream

            # This is a trainable mask token initialized randomly from a normal
            # distribution.
            self.mask_token = keras.Variable(keras.random.normal([1, patch_size * patch_size * 3]), trainable=True)

        def build(self, input_shape):
            (_, self.num_patches, self.patch_area) = input_shape

            # Create the projection layer for the patches.
            self.projection = layers.Dense(units=self.projection_dim)

            # Create the positional embedding layer.
            self.position_embedding = layers.Embedding(input_dim=self.num_patches, output_dim=self.projection_dim)

            # Number of patches that will be masked.
            self.num_mask = int(self.mask_proportion * self.num_patches)

        def call(self, patches):
            # Get the positional embeddings.
            batch_size = ops.shape(patches)[0]
            positions = ops.arange(start=0, stop=self.num_patches, step=1)
            pos_embeddings = self.position_embedding(positions[None, ...])
            pos_embeddings = ops.tile(pos_embeddings, [batch_size, 1, 1])  # (B, num_patches, projection_dim)

            # Embed the patches.
            patch_embeddings = self.projection(patches) + pos_embeddings  # (B, num_patches, projection_dim)

            if self.downstream:
                return patch_embeddings
            else:
                mask_indices, unmask_indices = self.get_random_indices(batch_size)
                # The encoder input is the unmasked patch embeddings. Here we gather
                # all the patches that should be unmasked.
                unmasked_embeddings = ops.take_along_axis(
                    patch_embeddings, unmask_indices[..., None], axis=1
                )  # (B, unmask_numbers, projection_dim)

                # Get the unmasked and masked position embeddings. We will need them
                # for the decoder.
                unmasked_positions = ops.take_along_axis(
                    pos_embeddings, unmask_indices[..., None], axis=1
                )  # (B, unmask_numbers, projection_dim)
                masked_positions = ops.take_along_axis(
                    pos_embeddings, mask_indices[..., None], axis=1
                )  # (B, mask_numbers, projection_dim)

                # Repeat the mask token number of mask times.
                # Mask tokens replace the masks of the image.
                mask_tokens = ops.repeat(self.mask_token, repeats=self.num_mask, axis=0)
                mask_tokens = ops.repeat(mask_tokens[None, ...], repeats=batch_size, axis=0)

                # Get the masked embeddings for the tokens.
                masked_embeddings = self.projection(mask_tokens) + masked_positions
                return (
                    unmasked_embeddings,  # Input to the encoder.
                    masked_embeddings,  # First part of input to the decoder.
                    unmasked_positions,  # Added to the encoder outputs.
                    mask_indices,  # The indices that were masked.
                    unmask_indices,  # The indices that were unmaksed.
                )

        def get_random_indices(self, batch_size):
            # Create random indices from a uniform distribution and then split
            # it into mask and unmask indices.
            rand_indices = ops.argsort(keras.random.uniform(shape=(batch_size, self.num_patches)), axis=-1)
            mask_indices = rand_indices[:, : self.num_mask]
            unmask_indices = rand_indices[:, self.num_mask :]
            return mask_indices, unmask_indices

        def generate_masked_image(self, patches, unmask_indices):
            # Choose a random patch and it corresponding unmask index.
            idx = np.random.choice(patches.shape[0])
            patch = patches[idx]
            unmask_index = unmask_indices[idx]

            # Build a numpy array of same shape as patch.
            new_patch = np.zeros_like(patch)

            # Iterate of the new_patch and plug the unmasked patches.
            for i in range(unmask_index.shape[0]):
                new_patch[unmask_index[i]] = patch[unmask_index[i]]
            return new_patch, idx

    def mlp(x, dropout_rate, hidden_units):
        for units in hidden_units:
            x = layers.Dense(units, activation=ops.gelu)(x)
            x = layers.Dropout(dropout_rate)(x)
        return x

    def create_encoder(num_heads=ENC_NUM_HEADS, num_layers=ENC_LAYERS):
        inputs = layers.Input((None, ENC_PROJECTION_DIM))
        x = inputs

        for _ in range(num_layers):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(x)

            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=ENC_PROJECTION_DIM, dropout=0.1)(
                x1, x1
            )

            # Skip connection 1.
            x2 = layers.Add()([attention_output, x])

            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(x2)

            # MLP.
            x3 = mlp(x3, hidden_units=ENC_TRANSFORMER_UNITS, dropout_rate=0.1)

            # Skip connection 2.
            x = layers.Add()([x3, x2])

        outputs = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(x)
        return keras.Model(inputs, outputs, name="mae_encoder")

    def create_decoder(num_layers=DEC_LAYERS, num_heads=DEC_NUM_HEADS, image_size=IMAGE_SIZE):
        inputs = layers.Input((NUM_PATCHES, ENC_PROJECTION_DIM))
        x = layers.Dense(DEC_PROJECTION_DIM)(inputs)

        for _ in range(num_layers):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(x)

            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=DEC_PROJECTION_DIM, dropout=0.1)(
                x1, x1
            )

            # Skip connection 1.
            x2 = layers.Add()([attention_output, x])

            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(x2)

            # MLP.
            x3 = mlp(x3, hidden_units=DEC_TRANSFORMER_UNITS, dropout_rate=0.1)

            # Skip connection 2.
            x = layers.Add()([x3, x2])

        x = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(x)
        x = layers.Flatten()(x)
        pre_final = layers.Dense(units=image_size * image_size * 3, activation="sigmoid")(x)
        outputs = layers.Reshape((image_size, image_size, 3))(pre_final)

        return keras.Model(inputs, outputs, name="mae_decoder")

    class MaskedAutoencoder(keras.Model):
        def __init__(
            self,
            train_augmentation_model,
            test_augmentation_model,
            patch_layer,
            patch_encoder,
            encoder,
            decoder,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.train_augmentation_model = train_augmentation_model
            self.test_augmentation_model = test_augmentation_model
            self.patch_layer = patch_layer
            self.patch_encoder = patch_encoder
            self.encoder = encoder
            self.decoder = decoder

        def calculate_loss(self, images, test=False):
            # Augment the input images.
            if test:
                augmented_images = self.test_augmentation_model(images)
            else:
                augmented_images = self.train_augmentation_model(images)

            # Patch the augmented images.
            patches = self.patch_layer(augmented_images)

            # Encode the patches.
            (
                unmasked_embeddings,
                masked_embeddings,
                unmasked_positions,
                mask_indices,
                unmask_indices,
            ) = self.patch_encoder(patches)

            # Pass the unmaksed patche to the encoder.
            encoder_outputs = self.encoder(unmasked_embeddings)

            # Create the decoder inputs.
            encoder_outputs = encoder_outputs + unmasked_positions
            decoder_inputs = ops.concatenate([encoder_outputs, masked_embeddings], axis=1)

            # Decode the inputs.
            decoder_outputs = self.decoder(decoder_inputs)
            decoder_patches = self.patch_layer(decoder_outputs)

            loss_patch = ops.take_along_axis(patches, mask_indices[..., None], axis=1)
            loss_output = ops.take_along_axis(decoder_patches, mask_indices[..., None], axis=1)

            # Compute the total loss.
            total_loss = self.compute_loss(y=loss_patch, y_pred=loss_output)

            return total_loss, loss_patch, loss_output

        def _update_metrics(self, total_loss, loss_patch, loss_output):
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(total_loss)
                else:
                    metric.update_state(loss_patch, loss_output)

        def train_step(self, images):
            total_loss, loss_patch, loss_output = self.calculate_loss(images)

            # Apply gradients.
            train_vars = [
                self.train_augmentation_model.trainable_variables,
                self.patch_layer.trainable_variables,
                self.patch_encoder.trainable_variables,
                self.encoder.trainable_variables,
                self.decoder.trainable_variables,
            ]
            flat_vars = [v for var in train_vars for v in var]
            grads = torch.autograd.grad(total_loss, [v.value for v in flat_vars])
            with torch.no_grad():
                self.optimizer.apply_gradients(zip(grads, flat_vars))

            # Report progress.
            self._update_metrics(total_loss, loss_patch, loss_output)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, images):
            total_loss, loss_patch, loss_output = self.calculate_loss(images, test=True)

            # Update the trackers.
            self._update_metrics(total_loss, loss_patch, loss_output)
            return {m.name: m.result() for m in self.metrics}

    train_augmentation_model = get_train_augmentation_model()
    test_augmentation_model = get_test_augmentation_model()
    patch_layer = Patches()
    patch_encoder = PatchEncoder()
    encoder = create_encoder()
    decoder = create_decoder()

    mae_model = MaskedAutoencoder(
        train_augmentation_model=train_augmentation_model,
        test_augmentation_model=test_augmentation_model,
        patch_layer=patch_layer,
        patch_encoder=patch_encoder,
        encoder=encoder,
        decoder=decoder,
    )

    # Taking a batch of test inputs to measure model's progress.
    test_images = x_test[:BATCH_SIZE]
    fits = {}

    class TrainMonitor(keras.callbacks.Callback):
        def __init__(self, epoch_interval=None):
            self.epoch_interval = epoch_interval

        def on_epoch_end(self, epoch, logs=None):
            if self.epoch_interval and epoch % self.epoch_interval == 0:
                test_augmented_images = self.model.test_augmentation_model(test_images)
                test_patches = self.model.patch_layer(test_augmented_images)
                (
                    test_unmasked_embeddings,
                    test_masked_embeddings,
                    test_unmasked_positions,
                    test_mask_indices,
                    test_unmask_indices,
                ) = self.model.patch_encoder(test_patches)
                test_encoder_outputs = self.model.encoder(test_unmasked_embeddings)
                test_encoder_outputs = test_encoder_outputs + test_unmasked_positions
                test_decoder_inputs = ops.concatenate([test_encoder_outputs, test_masked_embeddings], axis=1)
                test_decoder_outputs = self.model.decoder(test_decoder_inputs)

                # Show a maksed patch image.
                test_masked_patch, idx = self.model.patch_encoder.generate_masked_image(
                    ops.convert_to_numpy(test_patches), ops.convert_to_numpy(test_unmask_indices)
                )
                masked_image = self.model.patch_layer.reconstruct_from_patch(test_masked_patch)
                reconstructed_image = test_decoder_outputs[idx]
                fits.setdefault("monitor", {})[f"epoch_{epoch}"] = [
                    float(ops.convert_to_numpy(ops.mean(reconstructed_image))),
                    float(ops.convert_to_numpy(ops.mean(masked_image))),
                ]

    class WarmUpCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, learning_rate_base, total_steps, warmup_learning_rate, warmup_steps):
            super().__init__()

            self.learning_rate_base = learning_rate_base
            self.total_steps = total_steps
            self.warmup_learning_rate = warmup_learning_rate
            self.warmup_steps = warmup_steps
            self.pi = np.pi

        def __call__(self, step):
            if self.total_steps < self.warmup_steps:
                raise ValueError("Total_steps must be larger or equal to warmup_steps.")

            cos_annealed_lr = ops.cos(
                self.pi * (ops.cast(step, "float32") - self.warmup_steps) / float(self.total_steps - self.warmup_steps)
            )
            learning_rate = 0.5 * self.learning_rate_base * (1 + cos_annealed_lr)

            if self.warmup_steps > 0:
                if self.learning_rate_base < self.warmup_learning_rate:
                    raise ValueError("Learning_rate_base must be larger or equal to warmup_learning_rate.")
                slope = (self.learning_rate_base - self.warmup_learning_rate) / self.warmup_steps
                warmup_rate = slope * ops.cast(step, "float32") + self.warmup_learning_rate
                learning_rate = ops.where(step < self.warmup_steps, warmup_rate, learning_rate)
            return ops.where(step > self.total_steps, 0.0, learning_rate)

    total_steps = int((len(x_train) / BATCH_SIZE) * EPOCHS)
    warmup_epoch_percentage = 0.15
    warmup_steps = int(total_steps * warmup_epoch_percentage)
    scheduled_lrs = WarmUpCosine(
        learning_rate_base=LEARNING_RATE,
        total_steps=total_steps,
        warmup_learning_rate=0.0,
        warmup_steps=warmup_steps,
    )

    # Assemble the callbacks.
    train_callbacks = [TrainMonitor(epoch_interval=5)]

    optimizer = keras.optimizers.AdamW(learning_rate=scheduled_lrs, weight_decay=WEIGHT_DECAY)

    # Compile and pretrain the model.
    mae_model.compile(optimizer=optimizer, loss=keras.losses.MeanSquaredError(), metrics=["mae"])
    # Built here: Keras 3 on torch cannot build a model without `call()` from its first batch
    # ("Unable to automatically build the model"); `on_model` then sees the weights.
    train_augmentation_model.build((None,) + INPUT_SHAPE)
    patches = patch_layer(test_augmentation_model(x_train[:2]))
    encoder(patch_encoder(patches)[0])
    mae_model.built = True
    # (Keras 3 also reads a first batch through the model to build the compiled loss and
    # metrics: built here from patches of the loss's shape.)
    target = ops.zeros((2, patch_encoder.num_mask, PATCH_SIZE * PATCH_SIZE * 3))
    mae_model.compute_loss(y=target, y_pred=target)
    mae_model.compute_metrics(None, target, target, None)
    on_model(mae_model)
    results = {"initial": mae_model.evaluate(x_test, batch_size=BATCH_SIZE, verbose=0, return_dict=True)}
    history = mae_model.fit(
        x_train,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        validation_data=(x_val,),
        callbacks=train_callbacks,
        verbose=0,
        shuffle=shuffle,
    )

    # Measure its performance.
    loss, mae = mae_model.evaluate(x_test, batch_size=BATCH_SIZE, verbose=0)
    fits["pretrained"] = {"loss": [loss], "mae": [mae]}

    # Extract the augmentation layers.
    train_augmentation_model = mae_model.train_augmentation_model
    test_augmentation_model = mae_model.test_augmentation_model

    # Extract the patchers.
    patch_layer = mae_model.patch_layer
    patch_encoder = mae_model.patch_encoder
    patch_encoder.downstream = True  # Swtich the downstream flag to True.

    # Extract the encoder.
    encoder = mae_model.encoder

    # Pack as a model.
    downstream_model = keras.Sequential(
        [
            layers.Input((IMAGE_SIZE, IMAGE_SIZE, 3)),
            patch_layer,
            patch_encoder,
            encoder,
            layers.BatchNormalization(),  # Refer to A.1 (Linear probing).
            layers.GlobalAveragePooling1D(),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="linear_probe_model",
    )

    # Only the final classification layer of the `downstream_model` should be trainable.
    for layer in downstream_model.layers[:-1]:
        layer.trainable = False

    class AugmentedBatches(keras.utils.PyDataset):
        """`(augmentation_model(x), y)` batches, as the original's `dataset.batch(...).map(...)`."""

        def __init__(self, images, labels, augmentation_model):
            super().__init__()
            self.images, self.labels, self.augmentation_model = images, labels, augmentation_model

        def __len__(self):
            return int(np.ceil(len(self.images) / BATCH_SIZE))

        def __getitem__(self, index):
            batch = slice(index * BATCH_SIZE, (index + 1) * BATCH_SIZE)
            x = ops.convert_to_numpy(self.augmentation_model(self.images[batch]))
            return x, self.labels[batch]

    def prepare_data(images, labels, is_train=True):
        if is_train:
            augmentation_model = train_augmentation_model
        else:
            augmentation_model = test_augmentation_model
        return AugmentedBatches(images, labels, augmentation_model)

    train_ds = prepare_data(x_train, y_train)
    val_ds = prepare_data(x_train, y_train, is_train=False)
    test_ds = prepare_data(x_test, y_test, is_train=False)

    linear_probe_epochs = 2
    linear_prob_lr = 0.1
    warm_epoch_percentage = 0.1
    steps = int((len(x_train) // BATCH_SIZE) * linear_probe_epochs)

    warmup_steps = int(steps * warm_epoch_percentage)
    scheduled_lrs = WarmUpCosine(
        learning_rate_base=linear_prob_lr,
        total_steps=steps,
        warmup_learning_rate=0.0,
        warmup_steps=warmup_steps,
    )

    optimizer = keras.optimizers.SGD(learning_rate=scheduled_lrs, momentum=0.9)
    downstream_model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    on_model(downstream_model)
    results["probe_initial"] = downstream_model.evaluate(
        *prepare_data(x_test, y_test, is_train=False)[0], verbose=0, return_dict=True
    )
    probe = downstream_model.fit(train_ds, validation_data=val_ds, epochs=linear_probe_epochs, verbose=0, shuffle=shuffle)

    loss, accuracy = downstream_model.evaluate(test_ds, verbose=0)
    fits["probe"] = dict(probe.history, test_loss=[loss], test_accuracy=[accuracy])
    history.results = results
    history.fits = fits
    return history

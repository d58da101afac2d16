"""Port of keras-io `examples/vision/vit_small_ds.py` (Train a Vision Transformer on small
datasets, Aritra Roy Gosthipaty): Shifted Patch Tokenization and Locality Self Attention.

Changed: the example's TensorFlow calls -> their Keras 3 equivalents
(`tf.image.crop_to_bounding_box` / `pad_to_bounding_box` / `extract_patches` ->
`keras.ops.image.crop_images` / `pad_images` / `extract_patches`, `tf.Variable` ->
`keras.Variable`, `tf.constant(np.pi)` -> `ops.convert_to_tensor(np.pi)`); the
`MultiHeadAttentionLSA._compute_attention` signature gains `return_attention_scores=False`
(Keras 3.15.1 passes it positionally: the example's 5-argument override is a TypeError there);
data (CIFAR-100 -> seeded uint8 images (n, 8, 8, 3), n=64 / 16, 10 classes whose images differ
in brightness, so there is something to learn); sizes (IMAGE_SIZE 72 -> 12, PATCH_SIZE 6,
PROJECTION_DIM 64 -> 16, NUM_HEADS 4 -> 2, TRANSFORMER_LAYERS 8 -> 2, MLP_HEAD_UNITS
[2048, 1024] -> [32, 16]), BATCH_SIZE 256 -> 16, EPOCHS 50 -> 3, `verbose=0`, plots -> shape
checks, the library passed in as `keras`. The augmentation pipeline (adapted Normalization,
Resizing, RandomFlip / Rotation / Zoom), the layers, the models (vanilla and SPT + LSA with the
diagonal attention mask), `WarmUpCosine` (built but, as in the example, not given to the
optimizer; evaluated at a few steps here), AdamW, the metrics and `validation_split` are the
example's. Returned: the LSA model's History; `History.results` holds both models' evaluations
before training (the parity test copies Keras's initial weights in), and the schedule's values.
"""

import math

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the LSA model's History."""
    ops = keras.ops
    layers = keras.layers
    rng = np.random.default_rng(42)
    on_model = on_model or (lambda model: None)
    results = {}

    NUM_CLASSES = 10
    INPUT_SHAPE = (8, 8, 3)
    y_train = rng.integers(0, NUM_CLASSES, size=(64, 1))
    x_train = (rng.integers(0, 128, size=(64,) + INPUT_SHAPE) + 12 * y_train[:, :, None, None]).astype("uint8")
    y_test = rng.integers(0, NUM_CLASSES, size=(16, 1))
    x_test = (rng.integers(0, 128, size=(16,) + INPUT_SHAPE) + 12 * y_test[:, :, None, None]).astype("uint8")

    # DATA
    BATCH_SIZE = 16
    # AUGMENTATION
    IMAGE_SIZE = 12
    PATCH_SIZE = 6
    NUM_PATCHES = (IMAGE_SIZE // PATCH_SIZE) ** 2
    # OPTIMIZER
    LEARNING_RATE = 0.001
    WEIGHT_DECAY = 0.0001
    # TRAINING
    EPOCHS = 3
    # ARCHITECTURE
    LAYER_NORM_EPS = 1e-6
    TRANSFORMER_LAYERS = 2
    PROJECTION_DIM = 16
    NUM_HEADS = 2
    TRANSFORMER_UNITS = [PROJECTION_DIM * 2, PROJECTION_DIM]
    MLP_HEAD_UNITS = [32, 16]

    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.Resizing(IMAGE_SIZE, IMAGE_SIZE),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(factor=0.02),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    # Compute the mean and the variance of the training data for normalization.
    data_augmentation.layers[0].adapt(x_train)

    class ShiftedPatchTokenization(layers.Layer):
        def __init__(
            self,
            image_size=IMAGE_SIZE,
            patch_size=PATCH_SIZE,
            num_patches=NUM_PATCHES,
            projection_dim=PROJECTION_DIM,
            vanilla=False,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.vanilla = vanilla  # Flag to swtich to vanilla patch extractor
            self.image_size = image_size
            self.patch_size = patch_size
            self.half_patch = patch_size // 2
            self.flatten_patches = layers.Reshape((num_patches, -1))
            self.projection = layers.Dense(units=projection_dim)
            self.layer_norm = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)

        def crop_shift_pad(self, images, mode):
            # Build the diagonally shifted images
            if mode == "left-up":
                crop_height = self.half_patch
                crop_width = self.half_patch
                shift_height = 0
                shift_width = 0
            elif mode == "left-down":
                crop_height = 0
                crop_width = self.half_patch
                shift_height = self.half_patch
                shift_width = 0
            elif mode == "right-up":
                crop_height = self.half_patch
                crop_width = 0
                shift_height = 0
                shift_width = self.half_patch
            else:
                crop_height = 0
                crop_width = 0
                shift_height = self.half_patch
                shift_width = self.half_patch

            # Crop the shifted images and pad them
            crop = ops.image.crop_images(
                images,
                top_cropping=crop_height,
                left_cropping=crop_width,
                target_height=self.image_size - self.half_patch,
                target_width=self.image_size - self.half_patch,
            )
            shift_pad = ops.image.pad_images(
                crop,
                top_padding=shift_height,
                left_padding=shift_width,
                target_height=self.image_size,
                target_width=self.image_size,
            )
            return shift_pad

        def call(self, images):
            if not self.vanilla:
                # Concat the shifted images with the original image
                images = ops.concatenate(
                    [
                        images,
                        self.crop_shift_pad(images, mode="left-up"),
                        self.crop_shift_pad(images, mode="left-down"),
                        self.crop_shift_pad(images, mode="right-up"),
                        self.crop_shift_pad(images, mode="right-down"),
                    ],
                    axis=-1,
                )
            # Patchify the images and flatten it
            patches = ops.image.extract_patches(
                images, size=self.patch_size, strides=self.patch_size, dilation_rate=1, padding="valid"
            )
            flat_patches = self.flatten_patches(patches)
            if not self.vanilla:
                # Layer normalize the flat patches and linearly project it
                tokens = self.layer_norm(flat_patches)
                tokens = self.projection(tokens)
            else:
                # Linearly project the flat patches
                tokens = self.projection(flat_patches)
            return (tokens, patches)

    # Visualize the patches (shapes only).
    image = x_train[0]
    resized_image = ops.cast(
        ops.image.resize(ops.convert_to_tensor([image]), size=(IMAGE_SIZE, IMAGE_SIZE)),
        dtype="float32",
    )
    (token, patch) = ShiftedPatchTokenization(vanilla=True)(resized_image / 255.0)
    (token, patch) = (token[0], patch[0])
    assert tuple(patch.shape) == (2, 2, PATCH_SIZE * PATCH_SIZE * 3)
    assert tuple(ops.reshape(patch[0][1], (PATCH_SIZE, PATCH_SIZE, 3)).shape) == (6, 6, 3)
    (token, patch) = ShiftedPatchTokenization(vanilla=False)(resized_image / 255.0)
    (token, patch) = (token[0], patch[0])
    assert tuple(patch.shape) == (2, 2, PATCH_SIZE * PATCH_SIZE * 5 * 3)
    assert tuple(token.shape) == (NUM_PATCHES, PROJECTION_DIM)

    class PatchEncoder(layers.Layer):
        def __init__(self, num_patches=NUM_PATCHES, projection_dim=PROJECTION_DIM, **kwargs):
            super().__init__(**kwargs)
            self.num_patches = num_patches
            self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)
            self.positions = ops.arange(start=0, stop=self.num_patches, step=1)

        def call(self, encoded_patches):
            encoded_positions = self.position_embedding(self.positions)
            encoded_patches = encoded_patches + encoded_positions
            return encoded_patches

    class MultiHeadAttentionLSA(layers.MultiHeadAttention):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # The trainable temperature term. The initial value is the square root of the key
            # dimension.
            self.tau = keras.Variable(math.sqrt(float(self._key_dim)), trainable=True)

        def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                               return_attention_scores=False):
            query = ops.multiply(query, 1.0 / self.tau)
            attention_scores = ops.einsum(self._dot_product_equation, key, query)
            attention_scores = self._masked_softmax(attention_scores, attention_mask)
            attention_scores_dropout = self._dropout_layer(attention_scores, training=training)
            attention_output = ops.einsum(self._combine_equation, attention_scores_dropout, value)
            return attention_output, attention_scores

    def mlp(x, hidden_units, dropout_rate):
        for units in hidden_units:
            x = layers.Dense(units, activation="gelu")(x)
            x = layers.Dropout(dropout_rate)(x)
        return x

    # Build the diagonal attention mask
    diag_attn_mask = 1 - ops.eye(NUM_PATCHES)
    diag_attn_mask = ops.cast([diag_attn_mask], dtype="int8")

    def create_vit_classifier(vanilla=False):
        inputs = layers.Input(shape=INPUT_SHAPE)
        # Augment data.
        augmented = data_augmentation(inputs)
        # Create patches.
        (tokens, _) = ShiftedPatchTokenization(vanilla=vanilla)(augmented)
        # Encode patches.
        encoded_patches = PatchEncoder()(tokens)

        # Create multiple layers of the Transformer block.
        for _ in range(TRANSFORMER_LAYERS):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
            # Create a multi-head attention layer.
            if not vanilla:
                attention_output = MultiHeadAttentionLSA(
                    num_heads=NUM_HEADS, key_dim=PROJECTION_DIM, dropout=0.1
                )(x1, x1, attention_mask=diag_attn_mask)
            else:
                attention_output = layers.MultiHeadAttention(
                    num_heads=NUM_HEADS, key_dim=PROJECTION_DIM, dropout=0.1
                )(x1, x1)
            # Skip connection 1.
            x2 = layers.Add()([attention_output, encoded_patches])
            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
            # MLP.
            x3 = mlp(x3, hidden_units=TRANSFORMER_UNITS, dropout_rate=0.1)
            # Skip connection 2.
            encoded_patches = layers.Add()([x3, x2])

        # Create a [batch_size, projection_dim] tensor.
        representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        representation = layers.Flatten()(representation)
        representation = layers.Dropout(0.5)(representation)
        # Add MLP.
        features = mlp(representation, hidden_units=MLP_HEAD_UNITS, dropout_rate=0.5)
        # Classify outputs.
        logits = layers.Dense(NUM_CLASSES)(features)
        # Create the Keras model.
        model = keras.Model(inputs=inputs, outputs=logits)
        return model

    class WarmUpCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, learning_rate_base, total_steps, warmup_learning_rate, warmup_steps):
            super().__init__()

            self.learning_rate_base = learning_rate_base
            self.total_steps = total_steps
            self.warmup_learning_rate = warmup_learning_rate
            self.warmup_steps = warmup_steps
            self.pi = ops.convert_to_tensor(np.pi)

        def __call__(self, step):
            if self.total_steps < self.warmup_steps:
                raise ValueError("Total_steps must be larger or equal to warmup_steps.")

            cos_annealed_lr = ops.cos(
                self.pi
                * (ops.cast(step, dtype="float32") - self.warmup_steps)
                / float(self.total_steps - self.warmup_steps)
            )
            learning_rate = 0.5 * self.learning_rate_base * (1 + cos_annealed_lr)

            if self.warmup_steps > 0:
                if self.learning_rate_base < self.warmup_learning_rate:
                    raise ValueError("Learning_rate_base must be larger or equal to warmup_learning_rate.")
                slope = (self.learning_rate_base - self.warmup_learning_rate) / self.warmup_steps
                warmup_rate = slope * ops.cast(step, dtype="float32") + self.warmup_learning_rate
                learning_rate = ops.where(step < self.warmup_steps, warmup_rate, learning_rate)
            return ops.where(step > self.total_steps, 0.0, learning_rate)

    def run_experiment(model, name):
        total_steps = int((len(x_train) / BATCH_SIZE) * EPOCHS)
        warmup_epoch_percentage = 0.10
        warmup_steps = int(total_steps * warmup_epoch_percentage)
        scheduled_lrs = WarmUpCosine(
            learning_rate_base=LEARNING_RATE,
            total_steps=total_steps,
            warmup_learning_rate=0.0,
            warmup_steps=warmup_steps,
        )
        results["schedule"] = {"lr": [float(ops.convert_to_numpy(scheduled_lrs(step))) for step in (0, 1, 5, 20)]}

        optimizer = keras.optimizers.AdamW(learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[
                keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
            ],
        )
        on_model(model)
        results[f"{name}_initial"] = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0,
                                                    return_dict=True)
        history = model.fit(
            x=x_train,
            y=y_train,
            batch_size=BATCH_SIZE,
            epochs=EPOCHS,
            validation_split=0.1,
            verbose=0,
            shuffle=shuffle,
        )
        _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0)
        assert 0.0 <= accuracy <= top_5_accuracy <= 1.0
        return history

    # Run experiments with the vanilla ViT
    vit = create_vit_classifier(vanilla=True)
    run_experiment(vit, "vanilla")

    # Run experiments with the Shifted Patch Tokenization and Locality Self Attention modified ViT
    vit_sl = create_vit_classifier(vanilla=False)
    history = run_experiment(vit_sl, "lsa")
    history.results = results
    return history

"""Port of keras-io `examples/vision/mlp_image_classification.py` (Image classification with
modern MLP models: MLP-Mixer, FNet, gMLP; Khalid Salama, Keras 3 edition).

Changed: data (`keras.datasets.cifar100.load_data` -> synthetic uint8 images (n, 12, 12, 3)
and labels (n, 1) of 10 classes, seeded, n=80 / 24), input_shape (32, 32, 3) -> (12, 12, 3),
image_size 64 -> 16, patch_size 8 -> 4, embedding_dim 256 -> 16, num_blocks 4 -> 2,
num_classes 100 -> 10, batch_size 128 -> 32, num_epochs 1 -> 2, `verbose=0` on evaluate,
the library passed in as `keras`. The augmentation Sequential (Normalization adapted on the
training images, Resizing, RandomFlip, RandomZoom), Patches (`ops.image.extract_patches`),
PositionEmbedding, MLPMixerLayer (one LayerNormalization used twice), FNetLayer
(`ops.fft2` real part), gMLPLayer (spatial gating unit), `build_classifier` and
`run_experiment` (AdamW, SparseTopKCategoricalAccuracy, ReduceLROnPlateau, EarlyStopping with
`restore_best_weights`) are the example's. Added: `evaluate` from the copied initial weights
of each classifier in parity runs. The gMLP History is returned.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the gMLP History.

    `on_model(model)` is called on each classifier before it trains (the parity test copies
    Keras's initial weights in and compares `evaluate` there); `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    results = {}

    num_classes = 10
    input_shape = (12, 12, 3)

    x_train = rng.integers(0, 256, size=(80,) + input_shape).astype("uint8")
    y_train = rng.integers(0, num_classes, size=(80, 1))
    x_test = rng.integers(0, 256, size=(24,) + input_shape).astype("uint8")
    y_test = rng.integers(0, num_classes, size=(24, 1))

    weight_decay = 0.0001
    batch_size = 32
    num_epochs = 2
    dropout_rate = 0.2
    image_size = 16  # We'll resize input images to this size.
    patch_size = 4  # Size of the patches to be extracted from the input images.
    num_patches = (image_size // patch_size) ** 2  # Size of the data array.
    embedding_dim = 16  # Number of hidden units.
    num_blocks = 2  # Number of blocks.

    def build_classifier(blocks, positional_encoding=False):
        inputs = layers.Input(shape=input_shape)
        # Augment data.
        augmented = data_augmentation(inputs)
        # Create patches.
        patches = Patches(patch_size)(augmented)
        # Encode patches to generate a [batch_size, num_patches, embedding_dim] tensor.
        x = layers.Dense(units=embedding_dim)(patches)
        if positional_encoding:
            x = x + PositionEmbedding(sequence_length=num_patches)(x)
        # Process x using the module blocks.
        x = blocks(x)
        # Apply global average pooling to generate a [batch_size, embedding_dim] representation tensor.
        representation = layers.GlobalAveragePooling1D()(x)
        # Apply dropout.
        representation = layers.Dropout(rate=dropout_rate)(representation)
        # Compute logits outputs.
        logits = layers.Dense(num_classes)(representation)
        # Create the Keras model.
        return keras.Model(inputs=inputs, outputs=logits)

    def run_experiment(model, name):
        # Create Adam optimizer with weight decay.
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
        # Compile the model.
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[
                keras.metrics.SparseCategoricalAccuracy(name="acc"),
                keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5-acc"),
            ],
        )
        # Create a learning rate scheduler callback.
        reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5)
        # Create an early stopping callback.
        early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
        if on_model:
            on_model(model)
            results[name] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        # Fit the model.
        history = model.fit(
            x=x_train,
            y=y_train,
            batch_size=batch_size,
            epochs=num_epochs,
            validation_split=0.1,
            callbacks=[early_stopping, reduce_lr],
            shuffle=shuffle,
            verbose=0,
        )

        _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, verbose=0)
        assert 0.0 <= accuracy <= top_5_accuracy <= 1.0
        # Return history to plot learning curves.
        return history

    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.Resizing(image_size, image_size),
            layers.RandomFlip("horizontal"),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    # Compute the mean and the variance of the training data for normalization.
    data_augmentation.layers[0].adapt(x_train)

    class Patches(layers.Layer):
        def __init__(self, patch_size, **kwargs):
            super().__init__(**kwargs)
            self.patch_size = patch_size

        def call(self, x):
            patches = keras.ops.image.extract_patches(x, self.patch_size)
            batch_size = keras.ops.shape(patches)[0]
            num_patches = keras.ops.shape(patches)[1] * keras.ops.shape(patches)[2]
            patch_dim = keras.ops.shape(patches)[3]
            out = keras.ops.reshape(patches, (batch_size, num_patches, patch_dim))
            return out

    class PositionEmbedding(keras.layers.Layer):
        def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
            super().__init__(**kwargs)
            if sequence_length is None:
                raise ValueError("`sequence_length` must be an Integer, received `None`.")
            self.sequence_length = int(sequence_length)
            self.initializer = keras.initializers.get(initializer)

        def get_config(self):
            config = super().get_config()
            config.update(
                {
                    "sequence_length": self.sequence_length,
                    "initializer": keras.initializers.serialize(self.initializer),
                }
            )
            return config

        def build(self, input_shape):
            feature_size = input_shape[-1]
            self.position_embeddings = self.add_weight(
                name="embeddings",
                shape=[self.sequence_length, feature_size],
                initializer=self.initializer,
                trainable=True,
            )

            super().build(input_shape)

        def call(self, inputs, start_index=0):
            shape = keras.ops.shape(inputs)
            feature_length = shape[-1]
            sequence_length = shape[-2]
            # trim to match the length of the input sequence, which might be less
            # than the sequence_length of the layer.
            position_embeddings = keras.ops.convert_to_tensor(self.position_embeddings)
            position_embeddings = keras.ops.slice(
                position_embeddings,
                (start_index, 0),
                (sequence_length, feature_length),
            )
            return keras.ops.broadcast_to(position_embeddings, shape)

        def compute_output_shape(self, input_shape):
            return input_shape

    class MLPMixerLayer(layers.Layer):
        def __init__(self, num_patches, hidden_units, dropout_rate, *args, **kwargs):
            super().__init__(*args, **kwargs)

            self.mlp1 = keras.Sequential(
                [
                    layers.Dense(units=num_patches, activation="gelu"),
                    layers.Dense(units=num_patches),
                    layers.Dropout(rate=dropout_rate),
                ]
            )
            self.mlp2 = keras.Sequential(
                [
                    layers.Dense(units=num_patches, activation="gelu"),
                    layers.Dense(units=hidden_units),
                    layers.Dropout(rate=dropout_rate),
                ]
            )
            self.normalize = layers.LayerNormalization(epsilon=1e-6)

        def build(self, input_shape):
            return super().build(input_shape)

        def call(self, inputs):
            # Apply layer normalization.
            x = self.normalize(inputs)
            # Transpose inputs from [num_batches, num_patches, hidden_units] to [num_batches, hidden_units, num_patches].
            x_channels = keras.ops.transpose(x, axes=(0, 2, 1))
            # Apply mlp1 on each channel independently.
            mlp1_outputs = self.mlp1(x_channels)
            # Transpose mlp1_outputs from [num_batches, hidden_dim, num_patches] to [num_batches, num_patches, hidden_units].
            mlp1_outputs = keras.ops.transpose(mlp1_outputs, axes=(0, 2, 1))
            # Add skip connection.
            x = mlp1_outputs + inputs
            # Apply layer normalization.
            x_patches = self.normalize(x)
            # Apply mlp2 on each patch independtenly.
            mlp2_outputs = self.mlp2(x_patches)
            # Add skip connection.
            x = x + mlp2_outputs
            return x

    mlpmixer_blocks = keras.Sequential(
        [MLPMixerLayer(num_patches, embedding_dim, dropout_rate) for _ in range(num_blocks)]
    )
    learning_rate = 0.005
    mlpmixer_classifier = build_classifier(mlpmixer_blocks)
    history = run_experiment(mlpmixer_classifier, "mlpmixer")

    class FNetLayer(layers.Layer):
        def __init__(self, embedding_dim, dropout_rate, *args, **kwargs):
            super().__init__(*args, **kwargs)

            self.ffn = keras.Sequential(
                [
                    layers.Dense(units=embedding_dim, activation="gelu"),
                    layers.Dropout(rate=dropout_rate),
                    layers.Dense(units=embedding_dim),
                ]
            )

            self.normalize1 = layers.LayerNormalization(epsilon=1e-6)
            self.normalize2 = layers.LayerNormalization(epsilon=1e-6)

        def call(self, inputs):
            # Apply fourier transformations.
            real_part = inputs
            im_part = keras.ops.zeros_like(inputs)
            x = keras.ops.fft2((real_part, im_part))[0]
            # Add skip connection.
            x = x + inputs
            # Apply layer normalization.
            x = self.normalize1(x)
            # Apply Feedfowrad network.
            x_ffn = self.ffn(x)
            # Add skip connection.
            x = x + x_ffn
            # Apply layer normalization.
            return self.normalize2(x)

    fnet_blocks = keras.Sequential([FNetLayer(embedding_dim, dropout_rate) for _ in range(num_blocks)])
    learning_rate = 0.001
    fnet_classifier = build_classifier(fnet_blocks, positional_encoding=True)
    history = run_experiment(fnet_classifier, "fnet")

    class gMLPLayer(layers.Layer):
        def __init__(self, num_patches, embedding_dim, dropout_rate, *args, **kwargs):
            super().__init__(*args, **kwargs)

            self.channel_projection1 = keras.Sequential(
                [
                    layers.Dense(units=embedding_dim * 2, activation="gelu"),
                    layers.Dropout(rate=dropout_rate),
                ]
            )

            self.channel_projection2 = layers.Dense(units=embedding_dim)

            self.spatial_projection = layers.Dense(units=num_patches, bias_initializer="Ones")

            self.normalize1 = layers.LayerNormalization(epsilon=1e-6)
            self.normalize2 = layers.LayerNormalization(epsilon=1e-6)

        def spatial_gating_unit(self, x):
            # Split x along the channel dimensions.
            # Tensors u and v will in the shape of [batch_size, num_patchs, embedding_dim].
            u, v = keras.ops.split(x, indices_or_sections=2, axis=2)
            # Apply layer normalization.
            v = self.normalize2(v)
            # Apply spatial projection.
            v_channels = keras.ops.transpose(v, axes=(0, 2, 1))
            v_projected = self.spatial_projection(v_channels)
            v_projected = keras.ops.transpose(v_projected, axes=(0, 2, 1))
            # Apply element-wise multiplication.
            return u * v_projected

        def call(self, inputs):
            # Apply layer normalization.
            x = self.normalize1(inputs)
            # Apply the first channel projection. x_projected shape: [batch_size, num_patches, embedding_dim * 2].
            x_projected = self.channel_projection1(x)
            # Apply the spatial gating unit. x_spatial shape: [batch_size, num_patches, embedding_dim].
            x_spatial = self.spatial_gating_unit(x_projected)
            # Apply the second channel projection. x_projected shape: [batch_size, num_patches, embedding_dim].
            x_projected = self.channel_projection2(x_spatial)
            # Add skip connection.
            return x + x_projected

    gmlp_blocks = keras.Sequential([gMLPLayer(num_patches, embedding_dim, dropout_rate) for _ in range(num_blocks)])
    learning_rate = 0.003
    gmlp_classifier = build_classifier(gmlp_blocks)
    history = run_experiment(gmlp_classifier, "gmlp")
    history.results = results
    return history

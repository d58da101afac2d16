"""Port of keras-io `examples/vision/perceiver_image_classification.py` (Image Classification
with Perceiver, Khalid Salama).

Changed: the example's TensorFlow / TF-Addons calls -> their Keras 3 equivalents
(`layers.experimental.preprocessing.X` -> `layers.X`, `tf.nn.gelu` -> `"gelu"`,
`tf.shape` / `tf.reshape` / `tf.range` / `tf.expand_dims` -> `keras.ops`,
`tf.image.extract_patches` -> `keras.ops.image.extract_patches`, `tfa.optimizers.LAMB(...,
weight_decay_rate=)` -> `keras.optimizers.Lamb(..., weight_decay=)`,
`tf.keras.callbacks.EarlyStopping` -> `keras.callbacks.EarlyStopping`); data (CIFAR-100 ->
seeded uint8 images (n, 8, 8, 3), n=48 / 16, 10 classes whose images differ in brightness), sizes (image_size 64 -> 8,
latent_dim / projection_dim 256 -> 8, num_heads 4 -> 2, num_transformer_blocks 4 -> 1),
batch_size 64 -> 16, num_epochs 100 -> 4, `verbose=0`, prints dropped, the library passed in
as `keras`. Added (not in the example): the model is called once on two test images before
training, so its weights exist for the parity test to copy (it builds them at its first call),
and its inference-mode logits from those weights are kept in `History.results`. The layers, the
cross-attention and Transformer functional modules (dict inputs; applied `num_iterations` times
with shared weights), the `Preceiver` model creating its latent array and modules in `build`,
compile, ReduceLROnPlateau, EarlyStopping(restore_best_weights) and `validation_split` are the
example's.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    num_classes = 10
    input_shape = (8, 8, 3)
    y_train = rng.integers(0, num_classes, size=(48, 1))
    x_train = (rng.integers(0, 128, size=(48,) + input_shape) + 12 * y_train[:, :, None, None]).astype("uint8")
    y_test = rng.integers(0, num_classes, size=(16, 1))
    x_test = (rng.integers(0, 128, size=(16,) + input_shape) + 12 * y_test[:, :, None, None]).astype("uint8")

    learning_rate = 0.001
    weight_decay = 0.0001
    batch_size = 16
    num_epochs = 4
    dropout_rate = 0.1
    image_size = 8  # We'll resize input images to this size.
    patch_size = 2  # Size of the patches to be extract from the input images.
    num_patches = (image_size // patch_size) ** 2  # Size of the data array.
    latent_dim = 8  # Size of the latent array.
    projection_dim = 8  # Embedding size of each element in the data and latent arrays.
    num_heads = 2  # Number of Transformer heads.
    ffn_units = [projection_dim, projection_dim]  # Size of the Transformer Feedforward network.
    num_transformer_blocks = 1
    num_iterations = 2  # Repetitions of the cross-attention and Transformer modules.
    classifier_units = [projection_dim, num_classes]  # Size of the final classifier's FFN.

    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.Resizing(image_size, image_size),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(factor=0.02),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    # Compute the mean and the variance of the training data for normalization.
    data_augmentation.layers[0].adapt(x_train)

    def create_ffn(hidden_units, dropout_rate):
        ffn_layers = []
        for units in hidden_units[:-1]:
            ffn_layers.append(layers.Dense(units, activation="gelu"))

        ffn_layers.append(layers.Dense(units=hidden_units[-1]))
        ffn_layers.append(layers.Dropout(dropout_rate))

        ffn = keras.Sequential(ffn_layers)
        return ffn

    class Patches(layers.Layer):
        def __init__(self, patch_size):
            super().__init__()
            self.patch_size = patch_size

        def call(self, images):
            batch_size = ops.shape(images)[0]
            patches = ops.image.extract_patches(
                images, size=self.patch_size, strides=self.patch_size, dilation_rate=1, padding="valid"
            )
            patch_dims = patches.shape[-1]
            patches = ops.reshape(patches, [batch_size, -1, patch_dims])
            return patches

    class PatchEncoder(layers.Layer):
        def __init__(self, num_patches, projection_dim):
            super().__init__()
            self.num_patches = num_patches
            self.projection = layers.Dense(units=projection_dim)
            self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)

        def call(self, patches):
            positions = ops.arange(start=0, stop=self.num_patches, step=1)
            encoded = self.projection(patches) + self.position_embedding(positions)
            return encoded

    def create_cross_attention_module(latent_dim, data_dim, projection_dim, ffn_units, dropout_rate):
        inputs = {
            # Recieve the latent array as an input of shape [1, latent_dim, projection_dim].
            "latent_array": layers.Input(shape=(latent_dim, projection_dim)),
            # Recieve the data_array (encoded image): [batch_size, data_dim, projection_dim].
            "data_array": layers.Input(shape=(data_dim, projection_dim)),
        }

        # Apply layer norm to the inputs
        latent_array = layers.LayerNormalization(epsilon=1e-6)(inputs["latent_array"])
        data_array = layers.LayerNormalization(epsilon=1e-6)(inputs["data_array"])

        # Create query tensor: [1, latent_dim, projection_dim].
        query = layers.Dense(units=projection_dim)(latent_array)
        # Create key tensor: [batch_size, data_dim, projection_dim].
        key = layers.Dense(units=projection_dim)(data_array)
        # Create value tensor: [batch_size, data_dim, projection_dim].
        value = layers.Dense(units=projection_dim)(data_array)

        # Generate cross-attention outputs: [batch_size, latent_dim, projection_dim].
        attention_output = layers.Attention(use_scale=True, dropout=0.1)(
            [query, key, value], return_attention_scores=False
        )
        # Skip connection 1.
        attention_output = layers.Add()([attention_output, latent_array])

        # Apply layer norm.
        attention_output = layers.LayerNormalization(epsilon=1e-6)(attention_output)
        # Apply Feedforward network.
        ffn = create_ffn(hidden_units=ffn_units, dropout_rate=dropout_rate)
        outputs = ffn(attention_output)
        # Skip connection 2.
        outputs = layers.Add()([outputs, attention_output])

        # Create the Keras model.
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    def create_transformer_module(latent_dim, projection_dim, num_heads, num_transformer_blocks,
                                  ffn_units, dropout_rate):
        # input_shape: [1, latent_dim, projection_dim]
        inputs = layers.Input(shape=(latent_dim, projection_dim))

        x0 = inputs
        # Create multiple layers of the Transformer block.
        for _ in range(num_transformer_blocks):
            # Apply layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=1e-6)(x0)
            # Create a multi-head self-attention layer.
            attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=projection_dim,
                                                         dropout=0.1)(x1, x1)
            # Skip connection 1.
            x2 = layers.Add()([attention_output, x0])
            # Apply layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
            # Apply Feedforward network.
            ffn = create_ffn(hidden_units=ffn_units, dropout_rate=dropout_rate)
            x3 = ffn(x3)
            # Skip connection 2.
            x0 = layers.Add()([x3, x2])

        # Create the Keras model.
        model = keras.Model(inputs=inputs, outputs=x0)
        return model

    class Preceiver(keras.Model):
        def __init__(
            self,
            patch_size,
            data_dim,
            latent_dim,
            projection_dim,
            num_heads,
            num_transformer_blocks,
            ffn_units,
            dropout_rate,
            num_iterations,
            classifier_units,
        ):
            super().__init__()

            self.latent_dim = latent_dim
            self.data_dim = data_dim
            self.patch_size = patch_size
            self.projection_dim = projection_dim
            self.num_heads = num_heads
            self.num_transformer_blocks = num_transformer_blocks
            self.ffn_units = ffn_units
            self.dropout_rate = dropout_rate
            self.num_iterations = num_iterations
            self.classifier_units = classifier_units

        def build(self, input_shape):
            # Create latent array.
            self.latent_array = self.add_weight(
                shape=(self.latent_dim, self.projection_dim),
                initializer="random_normal",
                trainable=True,
            )

            # Create patching module.
            self.patcher = Patches(self.patch_size)

            # Create patch encoder.
            self.patch_encoder = PatchEncoder(self.data_dim, self.projection_dim)

            # Create cross-attenion module.
            self.corss_attention = create_cross_attention_module(
                self.latent_dim,
                self.data_dim,
                self.projection_dim,
                self.ffn_units,
                self.dropout_rate,
            )

            # Create Transformer module.
            self.transformer = create_transformer_module(
                self.latent_dim,
                self.projection_dim,
                self.num_heads,
                self.num_transformer_blocks,
                self.ffn_units,
                self.dropout_rate,
            )

            # Create gloabl average pooling layer.
            self.gloabl_average_pooling = layers.GlobalAveragePooling1D()

            # Create a classification head.
            self.classification_head = create_ffn(hidden_units=self.classifier_units,
                                                  dropout_rate=self.dropout_rate)

            super().build(input_shape)

        def call(self, inputs):
            # Augment data.
            augmented = data_augmentation(inputs)
            # Create patches.
            patches = self.patcher(augmented)
            # Encode patches.
            encoded_patches = self.patch_encoder(patches)
            # Prepare cross-attention inputs.
            cross_attention_inputs = {
                "latent_array": ops.expand_dims(self.latent_array, 0),
                "data_array": encoded_patches,
            }
            # Apply the cross-attention and the Transformer modules iteratively.
            for _ in range(num_iterations):
                # Apply cross-attention from the latent array to the data array.
                latent_array = self.corss_attention(cross_attention_inputs)
                # Apply self-attention Transformer to the latent array.
                latent_array = self.transformer(latent_array)
                # Set the latent array of the next iteration.
                cross_attention_inputs["latent_array"] = latent_array

            # Apply global average pooling to a [batch_size, projection_dim] representation.
            representation = self.gloabl_average_pooling(latent_array)
            # Generate logits.
            logits = self.classification_head(representation)
            return logits

    def run_experiment(model):
        # Create LAMB optimizer with weight decay.
        optimizer = keras.optimizers.Lamb(learning_rate=learning_rate, weight_decay=weight_decay)

        # Compile the model.
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[
                keras.metrics.SparseCategoricalAccuracy(name="acc"),
                keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5-acc"),
            ],
        )
        model(x_test[:2])  # (added: builds the weights; see the module docstring)
        if on_model is not None:
            on_model(model)
        # (added) The logits from those weights in inference mode: `evaluate` is random here, in
        # Keras too (the model's `call` takes no `training`, so the augmentation stays active).
        initial = {"logits": ops.convert_to_numpy(model(x_test[:4], training=False)).ravel().tolist()}

        # Create a learning rate scheduler callback.
        reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=3)

        # Create an early stopping callback.
        early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=15,
                                                       restore_best_weights=True)

        # Fit the model.
        history = model.fit(
            x=x_train,
            y=y_train,
            batch_size=batch_size,
            epochs=num_epochs,
            validation_split=0.1,
            callbacks=[early_stopping, reduce_lr],
            verbose=0,
            shuffle=shuffle,
        )

        _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, verbose=0)
        assert 0.0 <= accuracy <= top_5_accuracy <= 1.0

        # Return history to plot learning curves.
        history.results = {"initial_evaluation": initial}
        return history

    preceiver_classifier = Preceiver(
        patch_size,
        num_patches,
        latent_dim,
        projection_dim,
        num_heads,
        num_transformer_blocks,
        ffn_units,
        dropout_rate,
        num_iterations,
        classifier_units,
    )

    return run_experiment(preceiver_classifier)

"""Port of keras-io `examples/vision/image_classification_with_vision_transformer.py` (Image
classification with Vision Transformer, Khalid Salama; Keras 3, multi-backend).

Changed: data (CIFAR-100 -> seeded uint8 images (n, 8, 8, 3), n=64 / 16, 10 classes told
apart by brightness, learnable in a few epochs despite the dropout), sizes (image_size 72 -> 12, projection_dim 64 -> 4, num_heads
4 -> 2, transformer_layers 8 -> 2, mlp_head_units [2048, 1024] -> [16, 8]), batch_size
256 -> 16, num_epochs 10 -> 12, the checkpoint written to a temporary folder, `verbose=0`,
plots and prints -> shape checks, the library passed in as `keras`. Added (not in the
example): the model's evaluation before training, kept in `History.results` (the parity test
copies Keras's initial weights in). The augmentation pipeline, `Patches` (with its
`get_config`), `PatchEncoder`, the model, AdamW, the metrics, `ModelCheckpoint(save_best_only,
save_weights_only)` and `load_weights` of the best epoch are the example's.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    num_classes = 10
    input_shape = (8, 8, 3)
    y_train = rng.integers(0, num_classes, size=(64, 1))
    x_train = (rng.integers(0, 16, size=(64,) + input_shape) + 24 * y_train[:, :, None, None]).astype("uint8")
    y_test = rng.integers(0, num_classes, size=(16, 1))
    x_test = (rng.integers(0, 16, size=(16,) + input_shape) + 24 * y_test[:, :, None, None]).astype("uint8")

    learning_rate = 0.001
    weight_decay = 0.0001
    batch_size = 16
    num_epochs = 12
    image_size = 12  # We'll resize input images to this size
    patch_size = 6  # Size of the patches to be extract from the input images
    num_patches = (image_size // patch_size) ** 2
    projection_dim = 4
    num_heads = 2
    hidden_dim = projection_dim * num_heads
    transformer_units = [hidden_dim * 2, hidden_dim]  # Size of the transformer layers
    transformer_layers = 2
    mlp_head_units = [16, 8]  # Size of the dense layers of the final classifier

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

    def mlp(x, hidden_units, dropout_rate):
        for units in hidden_units:
            x = layers.Dense(units, activation=keras.activations.gelu)(x)
            x = layers.Dropout(dropout_rate)(x)
        return x

    class Patches(layers.Layer):
        def __init__(self, patch_size):
            super().__init__()
            self.patch_size = patch_size

        def call(self, images):
            input_shape = ops.shape(images)
            batch_size = input_shape[0]
            height = input_shape[1]
            width = input_shape[2]
            channels = input_shape[3]
            num_patches_h = height // self.patch_size
            num_patches_w = width // self.patch_size
            patches = keras.ops.image.extract_patches(images, size=self.patch_size)
            patches = ops.reshape(
                patches,
                (batch_size, num_patches_h * num_patches_w, self.patch_size * self.patch_size * channels),
            )
            return patches

        def get_config(self):
            config = super().get_config()
            config.update({"patch_size": self.patch_size})
            return config

    image = x_train[0]
    resized_image = ops.image.resize(ops.convert_to_tensor([image], dtype="float32"), size=(image_size, image_size))
    patches = Patches(patch_size)(resized_image)
    assert tuple(patches.shape) == (1, num_patches, patch_size * patch_size * 3)
    n = int(np.sqrt(patches.shape[1]))
    for i, patch in enumerate(patches[0]):
        patch_img = ops.reshape(patch, (patch_size, patch_size, 3))
        assert ops.convert_to_numpy(patch_img).astype("uint8").shape == (patch_size, patch_size, 3)
    assert n == 2 and Patches(patch_size).get_config()["patch_size"] == patch_size

    class PatchEncoder(layers.Layer):
        def __init__(self, num_patches, projection_dim):
            super().__init__()
            self.num_patches = num_patches
            self.projection = layers.Dense(units=projection_dim)
            self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)

        def call(self, patch):
            positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
            projected_patches = self.projection(patch)
            encoded = projected_patches + self.position_embedding(positions)
            return encoded

        def get_config(self):
            config = super().get_config()
            config.update({"num_patches": self.num_patches})
            return config

    def create_vit_classifier():
        inputs = keras.Input(shape=input_shape)
        # Augment data.
        augmented = data_augmentation(inputs)
        # Create patches.
        patches = Patches(patch_size)(augmented)
        # Encode patches.
        encoded_patches = PatchEncoder(num_patches, hidden_dim)(patches)

        # Create multiple layers of the Transformer block.
        for _ in range(transformer_layers):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=projection_dim,
                                                         dropout=0.1)(x1, x1)
            # Skip connection 1.
            x2 = layers.Add()([attention_output, encoded_patches])
            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
            # MLP.
            x3 = mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)
            # Skip connection 2.
            encoded_patches = layers.Add()([x3, x2])

        # Create a [batch_size, projection_dim] tensor.
        representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        representation = layers.Flatten()(representation)
        representation = layers.Dropout(0.5)(representation)
        # Add MLP.
        features = mlp(representation, hidden_units=mlp_head_units, dropout_rate=0.5)
        # Classify outputs.
        logits = layers.Dense(num_classes)(features)
        # Create the Keras model.
        model = keras.Model(inputs=inputs, outputs=logits)
        return model

    def run_experiment(model):
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)

        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[
                keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
            ],
        )
        if on_model is not None:
            on_model(model)
        initial = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0, return_dict=True)

        with tempfile.TemporaryDirectory() as folder:
            checkpoint_filepath = os.path.join(folder, "checkpoint.weights.h5")
            checkpoint_callback = keras.callbacks.ModelCheckpoint(
                checkpoint_filepath,
                monitor="val_accuracy",
                save_best_only=True,
                save_weights_only=True,
            )

            history = model.fit(
                x=x_train,
                y=y_train,
                batch_size=batch_size,
                epochs=num_epochs,
                validation_split=0.1,
                callbacks=[checkpoint_callback],
                verbose=0,
                shuffle=shuffle,
            )

            model.load_weights(checkpoint_filepath)
        _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, verbose=0)
        assert 0.0 <= accuracy <= top_5_accuracy <= 1.0
        history.results = {"initial_evaluation": initial}
        return history

    vit_classifier = create_vit_classifier()
    return run_experiment(vit_classifier)

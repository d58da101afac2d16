"""Port of keras-io `examples/vision/cct.py` (Compact Convolutional Transformers, Sayak Paul,
Keras 3 edition).

Changed: data (`keras.datasets.cifar10.load_data` -> synthetic uint8 images (n, 16, 16, 3) and
one-hot labels of 10 classes, seeded, n=80 / 24), image_size 32 -> 16, the tokenizer's
channels [64, 128] -> [16, 32] and projection_dim 128 -> 32 (CPU test time), epochs 30 -> 2,
batch_size 128 -> 32, the checkpoint written to a temporary folder, plotting dropped, the
library passed in as `keras`. CCTTokenizer, PositionEmbedding, SequencePooling,
StochasticDepth (a `training`-gated layer drawing from a `SeedGenerator`), the model builder
with its augmentation Sequential, AdamW, label-smoothed CategoricalCrossentropy,
TopKCategoricalAccuracy, ModelCheckpoint + `load_weights` and `evaluate` are the example's.
Added: an `evaluate` from the initial weights (the parity test compares it with Keras's).
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and compares `evaluate` there).
    """
    layers = keras.layers
    rng = np.random.default_rng(0)

    positional_emb = True
    conv_layers = 2
    projection_dim = 32

    num_heads = 2
    transformer_units = [projection_dim, projection_dim]
    transformer_layers = 2
    stochastic_depth_rate = 0.1

    learning_rate = 0.001
    weight_decay = 0.0001
    batch_size = 32
    num_epochs = 2
    image_size = 16

    num_classes = 10
    input_shape = (16, 16, 3)

    x_train = rng.integers(0, 256, size=(80,) + input_shape).astype("uint8")
    y_train = keras.utils.to_categorical(rng.integers(0, 10, size=(80, 1)), num_classes)
    x_test = rng.integers(0, 256, size=(24,) + input_shape).astype("uint8")
    y_test = keras.utils.to_categorical(rng.integers(0, 10, size=(24, 1)), num_classes)

    class CCTTokenizer(layers.Layer):
        def __init__(
            self,
            kernel_size=3,
            stride=1,
            padding=1,
            pooling_kernel_size=3,
            pooling_stride=2,
            num_conv_layers=conv_layers,
            num_output_channels=[16, 32],
            positional_emb=positional_emb,
            **kwargs,
        ):
            super().__init__(**kwargs)

            # This is our tokenizer.
            self.conv_model = keras.Sequential()
            for i in range(num_conv_layers):
                self.conv_model.add(
                    layers.Conv2D(
                        num_output_channels[i],
                        kernel_size,
                        stride,
                        padding="valid",
                        use_bias=False,
                        activation="relu",
                        kernel_initializer="he_normal",
                    )
                )
                self.conv_model.add(layers.ZeroPadding2D(padding))
                self.conv_model.add(layers.MaxPooling2D(pooling_kernel_size, pooling_stride, "same"))

            self.positional_emb = positional_emb

        def call(self, images):
            outputs = self.conv_model(images)
            # After passing the images through our mini-network the spatial dimensions
            # are flattened to form sequences.
            reshaped = keras.ops.reshape(
                outputs,
                (
                    -1,
                    keras.ops.shape(outputs)[1] * keras.ops.shape(outputs)[2],
                    keras.ops.shape(outputs)[-1],
                ),
            )
            return reshaped

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

    class SequencePooling(layers.Layer):
        def __init__(self):
            super().__init__()
            self.attention = layers.Dense(1)

        def call(self, x):
            attention_weights = keras.ops.softmax(self.attention(x), axis=1)
            attention_weights = keras.ops.transpose(attention_weights, axes=(0, 2, 1))
            weighted_representation = keras.ops.matmul(attention_weights, x)
            return keras.ops.squeeze(weighted_representation, -2)

    # Referred from: github.com:rwightman/pytorch-image-models.
    class StochasticDepth(layers.Layer):
        def __init__(self, drop_prop, **kwargs):
            super().__init__(**kwargs)
            self.drop_prob = drop_prop
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, x, training=None):
            if training:
                keep_prob = 1 - self.drop_prob
                shape = (keras.ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
                random_tensor = keep_prob + keras.random.uniform(shape, 0, 1, seed=self.seed_generator)
                random_tensor = keras.ops.floor(random_tensor)
                return (x / keep_prob) * random_tensor
            return x

    def mlp(x, hidden_units, dropout_rate):
        for units in hidden_units:
            x = layers.Dense(units, activation=keras.ops.gelu)(x)
            x = layers.Dropout(dropout_rate)(x)
        return x

    data_augmentation = keras.Sequential(
        [
            layers.Rescaling(scale=1.0 / 255),
            layers.RandomCrop(image_size, image_size),
            layers.RandomFlip("horizontal"),
        ],
        name="data_augmentation",
    )

    def create_cct_model(
        image_size=image_size,
        input_shape=input_shape,
        num_heads=num_heads,
        projection_dim=projection_dim,
        transformer_units=transformer_units,
    ):
        inputs = layers.Input(input_shape)

        # Augment data.
        augmented = data_augmentation(inputs)

        # Encode patches.
        cct_tokenizer = CCTTokenizer()
        encoded_patches = cct_tokenizer(augmented)

        # Apply positional embedding.
        if positional_emb:
            sequence_length = encoded_patches.shape[1]
            encoded_patches += PositionEmbedding(sequence_length=sequence_length)(encoded_patches)

        # Calculate Stochastic Depth probabilities.
        dpr = [x for x in np.linspace(0, stochastic_depth_rate, transformer_layers)]

        # Create multiple layers of the Transformer block.
        for i in range(transformer_layers):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=1e-5)(encoded_patches)

            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=projection_dim, dropout=0.1)(
                x1, x1
            )

            # Skip connection 1.
            attention_output = StochasticDepth(dpr[i])(attention_output)
            x2 = layers.Add()([attention_output, encoded_patches])

            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=1e-5)(x2)

            # MLP.
            x3 = mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)

            # Skip connection 2.
            x3 = StochasticDepth(dpr[i])(x3)
            encoded_patches = layers.Add()([x3, x2])

        # Apply sequence pooling.
        representation = layers.LayerNormalization(epsilon=1e-5)(encoded_patches)
        weighted_representation = SequencePooling()(representation)

        # Classify outputs.
        logits = layers.Dense(num_classes)(weighted_representation)
        # Create the Keras model.
        model = keras.Model(inputs=inputs, outputs=logits)
        return model

    def run_experiment(model, folder):
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)

        model.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
            metrics=[
                keras.metrics.CategoricalAccuracy(name="accuracy"),
                keras.metrics.TopKCategoricalAccuracy(5, name="top-5-accuracy"),
            ],
        )

        checkpoint_filepath = os.path.join(folder, "checkpoint.weights.h5")
        checkpoint_callback = keras.callbacks.ModelCheckpoint(
            checkpoint_filepath,
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
        )

        results = {}
        if on_model:
            on_model(model)
            results["evaluate_before"] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        history = model.fit(
            x=x_train,
            y=y_train,
            batch_size=batch_size,
            epochs=num_epochs,
            validation_split=0.1,
            callbacks=[checkpoint_callback],
            shuffle=shuffle,
            verbose=0,
        )

        model.load_weights(checkpoint_filepath)
        _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, verbose=0)
        assert 0.0 <= accuracy <= top_5_accuracy <= 1.0, (accuracy, top_5_accuracy)
        history.results = results
        return history

    cct_model = create_cct_model()
    with tempfile.TemporaryDirectory() as folder:
        history = run_experiment(cct_model, folder)
    assert sorted(history.history) == sorted(
        ["accuracy", "loss", "top-5-accuracy", "val_accuracy", "val_loss", "val_top-5-accuracy"]
    ), sorted(history.history)
    return history

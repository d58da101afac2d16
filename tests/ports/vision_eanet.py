"""Port of keras-io `examples/vision/eanet.py` (Image classification with EANet (External
Attention Transformer), ZhiYong Chang, Keras 3 edition).

Changed: data (`keras.datasets.cifar100` -> synthetic uint8 images (n, 32, 32, 3) and labels
0-9, seeded, n=96 / 32; num_classes 100 -> 10), image size 32 -> 16, patch_size 2 -> 4,
embedding_dim / mlp_dim 64 -> 16, num_transformer_blocks 8 -> 2, batch_size 128 -> 16,
num_epochs 50 -> 2, `verbose=0`, the plots and printing dropped, the library passed in as
`keras`. TensorFlow calls -> `keras.ops` as the Keras 3 edition has them
(`ops.image.extract_patches`, `ops.arange`, `ops.reshape`, `ops.transpose`, `ops.sum` on the
functional graph's KerasTensors), `tfa.optimizers.AdamW` -> `keras.optimizers.AdamW`,
`tf.nn.gelu` -> `keras.activations.gelu`. The augmentation Sequential (Normalization adapted to
the training images, RandomFlip, RandomRotation, RandomContrast, RandomZoom), PatchExtract,
PatchEmbedding (Dense + position Embedding), `external_attention`, `mlp`,
`transformer_encoder`, `get_model`, compile (label-smoothed CategoricalCrossentropy, accuracy
and top-5 accuracy), fit with `validation_split` and evaluate are the example's.
Added: an evaluation and predictions from the initial weights (before training: augmentation
and dropout make training random), kept in `History.results` for the parity test.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it evaluates and trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    input_shape = (16, 16, 3)
    num_classes = 10
    x_train = rng.integers(0, 256, size=(96,) + input_shape).astype("uint8")
    y_train = rng.integers(0, num_classes, size=(96, 1))
    x_test = rng.integers(0, 256, size=(32,) + input_shape).astype("uint8")
    y_test = rng.integers(0, num_classes, size=(32, 1))
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    weight_decay = 0.0001
    learning_rate = 0.001
    label_smoothing = 0.1
    validation_split = 0.2
    batch_size = 16
    num_epochs = 2
    patch_size = 4  # Size of the patches to be extracted from the input images.
    num_patches = (input_shape[0] // patch_size) ** 2  # Number of patch
    embedding_dim = 16  # Number of hidden units.
    mlp_dim = 16
    dim_coefficient = 4
    num_heads = 4
    attention_dropout = 0.2
    projection_dropout = 0.2
    num_transformer_blocks = 2  # Number of repetitions of the transformer layer

    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(factor=0.1),
            layers.RandomContrast(factor=0.1),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    # Compute the mean and the variance of the training data for normalization.
    data_augmentation.layers[0].adapt(x_train)

    class PatchExtract(layers.Layer):
        def __init__(self, patch_size, **kwargs):
            super().__init__(**kwargs)
            self.patch_size = patch_size

        def call(self, x):
            B, C = ops.shape(x)[0], ops.shape(x)[-1]
            x = ops.image.extract_patches(x, self.patch_size)
            x = ops.reshape(x, (B, -1, self.patch_size * self.patch_size * C))
            return x

    class PatchEmbedding(layers.Layer):
        def __init__(self, num_patch, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.num_patch = num_patch
            self.proj = layers.Dense(embed_dim)
            self.pos_embed = layers.Embedding(input_dim=num_patch, output_dim=embed_dim)

        def call(self, patch):
            pos = ops.arange(start=0, stop=self.num_patch, step=1)
            return self.proj(patch) + self.pos_embed(pos)

    def external_attention(x, dim, num_heads, dim_coefficient=4, attention_dropout=0, projection_dropout=0):
        _, num_patch, channel = x.shape
        assert dim % num_heads == 0
        num_heads = num_heads * dim_coefficient

        x = layers.Dense(dim * dim_coefficient)(x)
        # create tensor [batch_size, num_patches, num_heads, dim*dim_coefficient//num_heads]
        x = ops.reshape(x, (-1, num_patch, num_heads, dim * dim_coefficient // num_heads))
        x = ops.transpose(x, axes=[0, 2, 1, 3])
        # a linear layer M_k
        attn = layers.Dense(dim // dim_coefficient)(x)
        # normalize attention map
        attn = layers.Softmax(axis=2)(attn)
        # dobule-normalization
        attn = attn / (1e-9 + ops.sum(attn, axis=-1, keepdims=True))
        attn = layers.Dropout(attention_dropout)(attn)
        # a linear layer M_v
        x = layers.Dense(dim * dim_coefficient // num_heads)(attn)
        x = ops.transpose(x, axes=[0, 2, 1, 3])
        x = ops.reshape(x, [-1, num_patch, dim * dim_coefficient])
        # a linear layer to project original dim
        x = layers.Dense(dim)(x)
        x = layers.Dropout(projection_dropout)(x)
        return x

    def mlp(x, embedding_dim, mlp_dim, drop_rate=0.2):
        x = layers.Dense(mlp_dim, activation=keras.activations.gelu)(x)
        x = layers.Dropout(drop_rate)(x)
        x = layers.Dense(embedding_dim)(x)
        x = layers.Dropout(drop_rate)(x)
        return x

    def transformer_encoder(x, embedding_dim, mlp_dim, num_heads, dim_coefficient, attention_dropout,
                            projection_dropout, attention_type="external_attention"):
        residual_1 = x
        x = layers.LayerNormalization(epsilon=1e-5)(x)
        if attention_type == "external_attention":
            x = external_attention(x, embedding_dim, num_heads, dim_coefficient, attention_dropout,
                                   projection_dropout)
        elif attention_type == "self_attention":
            x = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embedding_dim,
                                          dropout=attention_dropout)(x, x)
        x = layers.add([x, residual_1])
        residual_2 = x
        x = layers.LayerNormalization(epsilon=1e-5)(x)
        x = mlp(x, embedding_dim, mlp_dim)
        x = layers.add([x, residual_2])
        return x

    def get_model(attention_type="external_attention"):
        inputs = layers.Input(shape=input_shape)
        # Image augment
        x = data_augmentation(inputs)
        # Extract patches.
        x = PatchExtract(patch_size)(x)
        # Create patch embedding.
        x = PatchEmbedding(num_patches, embedding_dim)(x)
        # Create Transformer block.
        for _ in range(num_transformer_blocks):
            x = transformer_encoder(x, embedding_dim, mlp_dim, num_heads, dim_coefficient, attention_dropout,
                                    projection_dropout, attention_type)

        x = layers.GlobalAvgPool1D()(x)
        outputs = layers.Dense(num_classes, activation="softmax")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    model = get_model(attention_type="external_attention")

    model.compile(
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay),
        metrics=[
            keras.metrics.CategoricalAccuracy(name="accuracy"),
            keras.metrics.TopKCategoricalAccuracy(5, name="top-5-accuracy"),
        ],
    )
    on_model(model)
    results = {"initial": model.evaluate(x_test, y_test, verbose=0, return_dict=True)}
    results["predict"] = {"probabilities": model.predict(x_test[:4], verbose=0).ravel().tolist()}
    results["normalization"] = {
        "mean": np.asarray(data_augmentation.layers[0].mean).ravel().tolist(),
        "variance": np.asarray(data_augmentation.layers[0].variance).ravel().tolist(),
    }

    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=num_epochs,
                        validation_split=validation_split, verbose=0, shuffle=shuffle)

    loss, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert 0.0 <= accuracy <= top_5_accuracy <= 1.0, (accuracy, top_5_accuracy)
    history.results = results
    return history

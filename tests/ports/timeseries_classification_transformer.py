"""Port of keras-io `examples/timeseries/timeseries_classification_transformer.py` (Ntakouris).

Changed: data loading (FordA TSV files -> synthetic float series (n, 100, 1): FordA's length 500 -> 100,
attention being quadratic in it (40-80 s per run on a 2-core machine at 500),
labels in {-1, 1} remapped to 0/1 by the example's code, class 1 shifted up by 1, seeded, n=256 / 16), epochs 200 -> 4,
num_transformer_blocks 4 -> 1 and head_size 256 -> 64 (CPU time; the block itself is unchanged),
EarlyStopping kept, the library passed in as `keras`. Encoder block, model, compile, fit are the
example's.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    rng = np.random.default_rng(0)

    def fake_ucr(n):
        y = rng.choice([-1, 1], size=(n,))
        t = np.linspace(0, 20, 100)
        x = np.sin(t[None, :] * (1.0 + 0.5 * (y[:, None] > 0))) + 0.5 * y[:, None] + 0.3 * rng.standard_normal((n, 100))
        return x, y.astype(int)

    x_train, y_train = fake_ucr(256)
    x_test, y_test = fake_ucr(16)
    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))
    n_classes = len(np.unique(y_train))
    idx = rng.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]
    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
        x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(inputs, inputs)
        x = layers.Dropout(dropout)(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
        res = x + inputs
        x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
        x = layers.Dropout(dropout)(x)
        x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
        return x + res

    def build_model(input_shape, head_size, num_heads, ff_dim, num_transformer_blocks, mlp_units,
                    dropout=0, mlp_dropout=0):
        inputs = keras.Input(shape=input_shape)
        x = inputs
        for _ in range(num_transformer_blocks):
            x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)
        x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
        for dim in mlp_units:
            x = layers.Dense(dim, activation="relu")(x)
            x = layers.Dropout(mlp_dropout)(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs)

    input_shape = x_train.shape[1:]
    model = build_model(input_shape, head_size=64, num_heads=4, ff_dim=4, num_transformer_blocks=1,
                        mlp_units=[128], mlp_dropout=0.4, dropout=0.25)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        metrics=["sparse_categorical_accuracy"],
    )
    model.summary()
    callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]
    history = model.fit(x_train, y_train, validation_split=0.2, epochs=4, batch_size=64, callbacks=callbacks,
                        verbose=0)
    model.evaluate(x_test, y_test, verbose=0)
    return history

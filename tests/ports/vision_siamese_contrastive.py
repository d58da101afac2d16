"""Port of keras-io `examples/vision/siamese_contrastive.py` (Siamese network with contrastive loss).

Changed: data loading (`keras.datasets.mnist.load_data` and the example's `make_pairs` over it ->
synthetic float image pairs of the example's shape (n, 28, 28) with 0/1 pair labels, seeded,
n=64 / 32), epochs 10 -> 3, plotting dropped, the library passed in as `keras`. As in the
Keras 3 edition the distance and loss use `keras.ops`. Distance, tower, merge, loss, compile
and fit are the example's.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    ops = keras.ops
    rng = np.random.default_rng(0)

    epochs = 3
    batch_size = 16
    margin = 1

    def fake_pairs(n):
        base = rng.random((n, 28, 28)).astype("float32")
        labels = rng.integers(0, 2, size=(n,)).astype("float32")
        other = np.where(labels[:, None, None] == 0, base + 0.05 * rng.random((n, 28, 28)),
                         rng.random((n, 28, 28))).astype("float32")
        return base, other, labels

    x_train_1, x_train_2, labels_train = fake_pairs(64)
    x_val_1, x_val_2, labels_val = fake_pairs(32)

    def euclidean_distance(vects):
        x, y = vects
        sum_square = ops.sum(ops.square(x - y), axis=1, keepdims=True)
        return ops.sqrt(ops.maximum(sum_square, keras.backend.epsilon()))

    input = keras.layers.Input((28, 28, 1))
    x = keras.layers.BatchNormalization()(input)
    x = keras.layers.Conv2D(4, (5, 5), activation="tanh")(x)
    x = keras.layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = keras.layers.Conv2D(16, (5, 5), activation="tanh")(x)
    x = keras.layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = keras.layers.Flatten()(x)

    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dense(10, activation="tanh")(x)
    embedding_network = keras.Model(input, x)

    input_1 = keras.layers.Input((28, 28, 1))
    input_2 = keras.layers.Input((28, 28, 1))

    tower_1 = embedding_network(input_1)
    tower_2 = embedding_network(input_2)

    merge_layer = keras.layers.Lambda(euclidean_distance, output_shape=(1,))([tower_1, tower_2])
    normal_layer = keras.layers.BatchNormalization()(merge_layer)
    output_layer = keras.layers.Dense(1, activation="sigmoid")(normal_layer)
    siamese = keras.Model(inputs=[input_1, input_2], outputs=output_layer)

    def loss(margin=1):
        def contrastive_loss(y_true, y_pred):
            square_pred = ops.square(y_pred)
            margin_square = ops.square(ops.maximum(margin - (y_pred), 0))
            return ops.mean((1 - y_true) * square_pred + (y_true) * margin_square)

        return contrastive_loss

    siamese.compile(loss=loss(margin=margin), optimizer="RMSprop", metrics=["accuracy"])
    siamese.summary()

    history = siamese.fit(
        [x_train_1, x_train_2],
        labels_train,
        validation_data=([x_val_1, x_val_2], labels_val),
        batch_size=batch_size,
        epochs=epochs,
        verbose=0,
    )
    results = siamese.evaluate([x_val_1, x_val_2], labels_val, verbose=0)
    assert np.all(np.isfinite(results))
    return history

"""Port of keras-io `examples/vision/pointnet.py` (Point cloud classification with PointNet,
David Griffiths, Keras 3 edition).

Changed: data (ModelNet10 meshes sampled by `trimesh` -> synthetic float64 point clouds
(n, 64, 3), seeded, 10 classes of
different scales, n=64 / 32), NUM_POINTS 2048 -> 64, BATCH_SIZE 32 -> 16, channel
widths (conv 32/64/512 -> 8/16/32, dense 256/128 -> 16/8), epochs 20 -> 4, `verbose=0`,
`summary()` and the matplotlib plots dropped, the library passed in as `keras`. The `tf.data`
pipeline (jitter with `tf.random.uniform`, `tf.random.shuffle` of the points, batching) ->
the same augmentation in numpy, once, then numpy arrays given to `fit`. `conv_bn`, `dense_bn`,
the `OrthogonalRegularizer` (a `keras.regularizers.Regularizer` subclass with `keras.ops`, used
as a Dense's `activity_regularizer`), `tnet` (Dense with a `Constant` identity bias, `Reshape`,
`Dot(axes=(2, 1))`), the model, compile and fit are the example's.
Added: an evaluation and predictions from the initial weights (before training, so the parity
test compares them from the copied weights; dropout makes training itself random) and a
check that the regularizer's `get_config` raises `NotImplementedError` from the base class,
as in Keras 3.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it evaluates and trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    NUM_POINTS = 64
    NUM_CLASSES = 10
    BATCH_SIZE = 16

    train_labels = rng.integers(0, NUM_CLASSES, size=(64,))
    test_labels = rng.integers(0, NUM_CLASSES, size=(32,))
    # float64, as trimesh samples; each class its own scale, so there is something to learn.
    train_points = rng.normal(size=(64, NUM_POINTS, 3)) * (1 + train_labels[:, None, None]) / 4
    test_points = rng.normal(size=(32, NUM_POINTS, 3)) * (1 + test_labels[:, None, None]) / 4

    def augment(points):
        # jitter points
        points = points + rng.uniform(-0.005, 0.005, size=points.shape)
        # shuffle points
        return points[:, rng.permutation(points.shape[1])]

    train_points = augment(train_points)

    def conv_bn(x, filters):
        x = layers.Conv1D(filters, kernel_size=1, padding="valid")(x)
        x = layers.BatchNormalization(momentum=0.0)(x)
        return layers.Activation("relu")(x)

    def dense_bn(x, filters):
        x = layers.Dense(filters)(x)
        x = layers.BatchNormalization(momentum=0.0)(x)
        return layers.Activation("relu")(x)

    class OrthogonalRegularizer(keras.regularizers.Regularizer):
        def __init__(self, num_features, l2reg=0.001):
            self.num_features = num_features
            self.l2reg = l2reg
            self.eye = keras.ops.eye(num_features)

        def __call__(self, x):
            x = keras.ops.reshape(x, (-1, self.num_features, self.num_features))
            xxt = keras.ops.tensordot(x, x, axes=(2, 2))
            xxt = keras.ops.reshape(xxt, (-1, self.num_features, self.num_features))
            return keras.ops.sum(self.l2reg * keras.ops.square(xxt - self.eye))

        def get_config(self):
            config = super().get_config()
            config.update({"num_features": self.num_features, "l2reg_strength": self.l2reg})
            return config

    def tnet(inputs, num_features):
        # Initalise bias as the indentity matrix
        bias = keras.initializers.Constant(np.eye(num_features).flatten())
        reg = OrthogonalRegularizer(num_features)

        x = conv_bn(inputs, 8)
        x = conv_bn(x, 16)
        x = conv_bn(x, 32)
        x = layers.GlobalMaxPooling1D()(x)
        x = dense_bn(x, 16)
        x = dense_bn(x, 8)
        x = layers.Dense(
            num_features * num_features,
            kernel_initializer="zeros",
            bias_initializer=bias,
            activity_regularizer=reg,
        )(x)
        feat_T = layers.Reshape((num_features, num_features))(x)
        # Apply affine transformation to input features
        return layers.Dot(axes=(2, 1))([inputs, feat_T])

    inputs = keras.Input(shape=(NUM_POINTS, 3))

    x = tnet(inputs, 3)
    x = conv_bn(x, 8)
    x = conv_bn(x, 8)
    x = tnet(x, 8)
    x = conv_bn(x, 8)
    x = conv_bn(x, 16)
    x = conv_bn(x, 32)
    x = layers.GlobalMaxPooling1D()(x)
    x = dense_bn(x, 16)
    x = layers.Dropout(0.3)(x)
    x = dense_bn(x, 8)
    x = layers.Dropout(0.3)(x)

    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)

    model = keras.Model(inputs=inputs, outputs=outputs, name="pointnet")

    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        metrics=["sparse_categorical_accuracy"],
    )
    on_model(model)
    results = {"initial": model.evaluate(test_points, test_labels, batch_size=BATCH_SIZE, verbose=0,
                                         return_dict=True)}
    preds = model.predict(test_points[:8], verbose=0)
    results["predict"] = {"probabilities": preds.ravel().tolist(), "argmax": np.argmax(preds, -1).tolist()}

    history = model.fit(train_points, train_labels, batch_size=BATCH_SIZE, epochs=4,
                        validation_data=(test_points, test_labels), verbose=0, shuffle=shuffle)
    history.results = results

    # The example's `get_config` calls the base class's, which Keras 3 does not implement.
    try:
        OrthogonalRegularizer(3).get_config()
    except NotImplementedError:
        pass
    else:
        raise AssertionError("Regularizer.get_config() did not raise NotImplementedError")
    return history

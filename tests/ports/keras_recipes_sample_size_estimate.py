"""Port of keras-io `examples/keras_recipes/sample_size_estimate.py` (Estimating required
sample size for model training, JacoVerster, Keras 3 edition).

Changed: data (`tfds.load("tf_flowers")` resized to 224x224 -> synthetic float images
(n, 32, 32, 3) in [0, 255] with one-hot labels of 3 classes, seeded, n=48 / 16), image_size
224 -> 32, MobileNetV2 `weights="imagenet"` -> `weights=None` (no downloads) with
`alpha=0.35`, epochs 10 / 20 -> 2 / 1 with patience 3 / 5 -> 1, batch_size 128 -> 16, one
`train_model` run on the whole (synthetic) training set instead of 20 subsample runs (the
example itself uses recorded accuracies for the curve), `verbose=0` and printing/plots
dropped, the library passed in as `keras`. `fit_and_predict`'s `tf.Variable`s and
`tf.GradientTape` loop -> `keras.Variable`s and torch autograd (`loss.backward()`, `assign_sub`
under `torch.no_grad()`), 5000 -> 300 steps, `tf.convert_to_tensor` -> `keras.ops`. The
augmentation model applied to the training images, `build_model` (Rescaling, MobileNetV2 on
`input_tensor`, frozen, new top), `compile_and_train` (EarlyStopping on "val_auc", mode "max",
`restore_best_weights`), `unfreeze` (from "block_10", BatchNormalization left frozen, then a
recompile), the recorded accuracies and sample sizes and the curve fit are the example's.
Added: the trainable / non-trainable weight counts, an evaluation from the initial weights and
the fitted curve (a, b, prediction, MAE), kept in `History.results` for the parity test.
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the fine-tuning History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    image_size = (32, 32)
    batch_size = 16
    num_classes = 3
    labels = rng.integers(0, num_classes, size=64)
    images = rng.uniform(0, 200, size=(64, 32, 32, 3)) + 50 * labels[:, None, None, None] / 2
    onehot = np.eye(num_classes, dtype="float32")[labels]
    img_train, label_train = images[:48].astype("float32"), onehot[:48]
    img_test, label_test = images[48:].astype("float32"), onehot[48:]
    num_train_samples = len(img_train)

    image_augmentation = keras.Sequential(
        [
            layers.RandomFlip(mode="horizontal"),
            layers.RandomRotation(factor=0.1),
            layers.RandomZoom(height_factor=(-0.1, -0)),
            layers.RandomContrast(factor=0.1),
        ],
    )

    # Apply the augmentations to the training images
    img_train = keras.ops.convert_to_numpy(image_augmentation(img_train))

    def build_model(num_classes, img_size=image_size[0], top_dropout=0.3):
        inputs = layers.Input(shape=(img_size, img_size, 3))
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1)(inputs)
        model = keras.applications.MobileNetV2(include_top=False, weights=None, input_tensor=x, alpha=0.35)

        # Freeze the pretrained weights
        model.trainable = False

        # Rebuild top
        x = layers.GlobalAveragePooling2D(name="avg_pool")(model.output)
        x = layers.Dropout(top_dropout)(x)
        outputs = layers.Dense(num_classes, activation="softmax")(x)
        model = keras.Model(inputs, outputs)

        results["build"] = {"trainable": [len(model.trainable_weights)],
                            "non_trainable": [len(model.non_trainable_weights)],
                            "layers": [len(model.layers)]}
        return model

    def compile_and_train(model, training_data, training_labels, metrics=None, optimizer=None, patience=5,
                          epochs=5):
        stopper = keras.callbacks.EarlyStopping(
            monitor="val_auc",
            mode="max",
            min_delta=0,
            patience=patience,
            verbose=0,
            restore_best_weights=True,
        )

        model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=metrics)
        if "initial" not in results:
            on_model(model)
            results["initial"] = model.evaluate(img_test, label_test, verbose=0, return_dict=True)

        history = model.fit(
            x=training_data,
            y=training_labels,
            batch_size=batch_size,
            epochs=epochs,
            validation_split=0.1,
            callbacks=[stopper],
            verbose=0,
            shuffle=shuffle,
        )
        return history

    def unfreeze(model, block_name, verbose=0):
        # Unfreeze from block_name onwards
        set_trainable = False

        for layer in model.layers:
            if block_name in layer.name:
                set_trainable = True
            if set_trainable and not isinstance(layer, layers.BatchNormalization):
                layer.trainable = True
        results["unfreeze"] = {"trainable": [len(model.trainable_weights)],
                               "non_trainable": [len(model.non_trainable_weights)]}
        return model

    def train_model(training_data, training_labels):
        model = build_model(num_classes)

        # Compile and train top layers
        history = compile_and_train(
            model,
            training_data,
            training_labels,
            metrics=[keras.metrics.AUC(name="auc"), "acc"],
            optimizer=keras.optimizers.Adam(),
            patience=1,
            epochs=2,
        )

        # Unfreeze model from block 10 onwards
        model = unfreeze(model, "block_10")

        # Compile and train for 20 epochs with a lower learning rate
        fine_tune_epochs = 1
        total_epochs = history.epoch[-1] + fine_tune_epochs

        history_fine = compile_and_train(
            model,
            training_data,
            training_labels,
            metrics=[keras.metrics.AUC(name="auc"), "acc"],
            optimizer=keras.optimizers.Adam(learning_rate=1e-4),
            patience=1,
            epochs=total_epochs,
        )

        # Calculate model accuracy on the test set
        _, _, acc = model.evaluate(img_test, label_test, verbose=0)
        return np.round(acc, 4), history, history_fine

    accuracy, history, history_fine = train_model(img_train, label_train)
    assert 0.0 <= accuracy <= 1.0, accuracy

    # Running the example's train_iteratively produces the following outputs
    train_acc = [
        [0.8202, 0.7466, 0.8011, 0.8447, 0.8229],
        [0.861, 0.8774, 0.8501, 0.8937, 0.891],
        [0.891, 0.9237, 0.8856, 0.9101, 0.891],
        [0.8937, 0.9373, 0.9128, 0.8719, 0.9128],
    ]

    sample_sizes = [165, 330, 825, 1651]

    def fit_and_predict(train_acc, sample_sizes, pred_sample_size):
        x = sample_sizes
        mean_acc = keras.ops.convert_to_tensor([np.mean(i) for i in train_acc])

        # Define mean squared error cost and exponential curve fit functions
        mse = keras.losses.MeanSquaredError()

        def exp_func(x, a, b):
            return a * x**b

        # Define variables, learning rate and number of epochs for fitting
        a = keras.Variable(0.0)
        b = keras.Variable(0.0)
        learning_rate = 0.01
        training_epochs = 300

        x_tensor = keras.ops.convert_to_tensor(np.array(x, dtype="float32"))
        # Fit the exponential function to the data
        for epoch in range(training_epochs):
            a.value.grad = None
            b.value.grad = None
            y_pred = exp_func(x_tensor, a.value, b.value)
            cost_function = mse(y_pred, mean_acc)
            cost_function.backward()
            gradients = [a.value.grad, b.value.grad]
            with torch.no_grad():
                a.assign_sub(gradients[0] * learning_rate)
                b.assign_sub(gradients[1] * learning_rate)

        # We can now estimate the accuracy for pred_sample_size
        max_acc = keras.ops.convert_to_numpy(exp_func(pred_sample_size, a.value, b.value)).item()

        mae = keras.losses.MeanAbsoluteError()
        error = keras.ops.convert_to_numpy(mae(mean_acc, exp_func(x_tensor, a.value, b.value))).item()
        return {"a": [float(keras.ops.convert_to_numpy(a))], "b": [float(keras.ops.convert_to_numpy(b))],
                "max_acc": [max_acc], "mae": [error]}

    results["curve"] = fit_and_predict(train_acc, sample_sizes, pred_sample_size=3303)
    assert np.isfinite(results["curve"]["max_acc"][0])
    history_fine.history["loss"] = history.history["loss"] + history_fine.history["loss"]
    history_fine.results = results
    return history_fine

"""Port of keras-io `examples/keras_recipes/reproducibility_recipes.py` (Reproducibility in Keras
Models, Frightera, Keras 3 edition).

Changed: data (`keras.datasets.mnist` -> synthetic uint8 images (n, 28, 28) labelled by their brightness decile, seeded,
n=96 / 32), the tf.data pipeline (shuffle, batch, cast / expand / `tf.image.resize` to 32x32)
-> the same preprocessing in numpy with `keras.ops.image.resize` and `fit(shuffle=True)`
(the default), `tf.config.experimental.enable_op_determinism()` dropped (TensorFlow only),
Conv2D widths 32 -> 8 and Dense 64 -> 16, batch_size 64 -> 16, `verbose=0`, the JSON file written to a temporary
folder, the "restart the kernel and run again" step -> `keras.utils.set_random_seed(812)` then
the same training again in the process, the library passed in as `keras`. The initializer
checks (each initializer with `seed=42` twice, two seeded GlorotNormal objects equal, two
unseeded ones different), `train_model` (a Sequential with Dropout) and the history comparison
are the example's.
"""

import json
import os
import tempfile

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the first training's History."""
    layers = keras.layers
    initializers = keras.initializers
    rng = np.random.default_rng(0)

    keras.utils.set_random_seed(812)

    initializers_list = [
        initializers.RandomNormal,
        initializers.RandomUniform,
        initializers.TruncatedNormal,
        initializers.VarianceScaling,
        initializers.GlorotNormal,
        initializers.GlorotUniform,
        initializers.HeNormal,
        initializers.HeUniform,
        initializers.LecunNormal,
        initializers.LecunUniform,
        initializers.Orthogonal,
    ]

    for initializer in initializers_list:
        results = []
        for iteration in range(2):
            # In order to get same results across multiple runs from an initializer,
            # you can specify a seed value.
            result = float(initializer(seed=42)(shape=(1, 1)))
            results.append(result)
        assert results[0] == results[1], (initializer, results)

    glorot_normal_1 = keras.initializers.GlorotNormal(seed=42)
    glorot_normal_2 = keras.initializers.GlorotNormal(seed=42)

    input_dim, neurons = 3, 5

    # Call two different objects with same shape
    result_1 = glorot_normal_1(shape=(input_dim, neurons))
    result_2 = glorot_normal_2(shape=(input_dim, neurons))

    # Check if the results are equal.
    assert np.allclose(keras.ops.convert_to_numpy(result_1), keras.ops.convert_to_numpy(result_2))

    glorot_normal_3 = keras.initializers.GlorotNormal()
    glorot_normal_4 = keras.initializers.GlorotNormal()

    # Let's call the initializer.
    result_3 = glorot_normal_3(shape=(input_dim, neurons))

    # Call the second initializer.
    result_4 = glorot_normal_4(shape=(input_dim, neurons))

    assert not np.allclose(keras.ops.convert_to_numpy(result_3), keras.ops.convert_to_numpy(result_4))

    def train_model(train_data, test_data):
        model = keras.Sequential(
            [
                layers.Conv2D(8, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Dropout(0.2),
                layers.Conv2D(8, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Dropout(0.2),
                layers.Conv2D(8, (3, 3), activation="relu"),
                layers.GlobalAveragePooling2D(),
                layers.Dense(16, activation="relu"),
                layers.Dropout(0.2),
                layers.Dense(10, activation="softmax"),
            ]
        )

        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=False,
        )
        history = model.fit(*train_data, batch_size=16, epochs=2, validation_data=test_data, verbose=0)
        model.evaluate(*test_data, verbose=0)
        return history

    def digits(n):  # the label is the image's brightness decile: something to learn
        brightness = rng.random((n, 1, 1))
        images = (rng.random((n, 28, 28)) * brightness * 255).astype("uint8")
        return images, np.minimum((brightness[:, 0, 0] * 10).astype("int64"), 9)

    (train_images, train_labels), (test_images, test_labels) = digits(96), digits(32)

    def prepare_dataset(image, label):
        # Cast and normalize the image
        image = image.astype("float32") / 255.0
        # Expand the channel dimension
        image = np.expand_dims(image, axis=-1)
        # Resize the image
        image = keras.ops.convert_to_numpy(keras.ops.image.resize(image, (32, 32)))
        return image, label

    train_data = prepare_dataset(train_images, train_labels)
    test_data = prepare_dataset(test_images, test_labels)

    history_object = train_model(train_data, test_data)
    history = history_object.history

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "history.json")
        # Save the history object into a json file
        with open(path, "w") as fp:
            json.dump(history, fp)

        # "Restart the kernel": set the seed again and train again.
        keras.utils.set_random_seed(812)
        for initializer in initializers_list:
            float(initializer(seed=42)(shape=(1, 1)))
        keras.initializers.GlorotNormal()(shape=(input_dim, neurons))
        keras.initializers.GlorotNormal()(shape=(input_dim, neurons))
        again = train_model(train_data, test_data).history

        with open(path, "r") as fp:
            history_loaded = json.load(fp)

    for key in history.keys():
        for i in range(len(history[key])):
            assert np.allclose(again[key][i], history_loaded[key][i]), (key, again[key], history_loaded[key])
    return history_object

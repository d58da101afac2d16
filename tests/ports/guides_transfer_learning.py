"""Port of keras-io `guides/transfer_learning.py` (Transfer learning & fine-tuning, fchollet).

Changed: data (cats vs dogs from TFDS resized to 150x150 -> seeded random pixels in [0, 255)
of shape (n, 71, 71, 3), Xception's smallest input, with 0/1 labels; n=8 / 8, numpy arrays
given to `fit` in batches of 8), `keras.applications.Xception(weights="imagenet")` ->
`weights=None` (no downloads), epochs 20 / 10 -> 2 / 1, the labels made learnable (label-1 images brighter), `verbose=0`, prints and plots ->
assertions, the library passed in as `keras`. The `trainable` API section (Dense,
BatchNormalization, a frozen layer in a Sequential keeping its weights through `fit`, recursive
freezing) and the end-to-end model (augmentation, `Rescaling(1 / 127.5, offset=-1)`, the frozen
base called with `training=False`, GlobalAveragePooling2D, Dropout, Dense), its two compiles and
fits (top layer, then the unfrozen base at 1e-5) are the guide's. Recorded in
`History.results`: the model's evaluation before training and the base's BatchNormalization
statistics changing in the fine-tuning fit: Keras 3.15.1 passes `fit`'s `training=True` to the
base model over the `training=False` of its call (Keras's `operation_fn`), so they do change,
contrary to the guide's text; keraslike does the same.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the top layer's History.

    `on_model(model)` is called on the model before it first trains and `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    results = {}

    layer = keras.layers.Dense(3)
    layer.build((None, 4))  # Create the weights
    assert (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)) == (2, 2, 0)

    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))  # Create the weights
    assert (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)) == (4, 2, 2)

    layer = keras.layers.Dense(3)
    layer.build((None, 4))  # Create the weights
    layer.trainable = False  # Freeze the layer
    assert (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)) == (2, 0, 2)

    # Make a model with 2 layers
    layer1 = keras.layers.Dense(3, activation="relu")
    layer2 = keras.layers.Dense(3, activation="sigmoid")
    model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])

    # Freeze the first layer
    layer1.trainable = False

    # Keep a copy of the weights of layer1 for later reference
    initial_layer1_weights_values = layer1.get_weights()

    # Train the model
    model.compile(optimizer="adam", loss="mse")
    model.fit(rng.random((2, 3)), rng.random((2, 3)), verbose=0)

    # Check that the weights of layer1 have not changed during training
    final_layer1_weights_values = layer1.get_weights()
    np.testing.assert_allclose(initial_layer1_weights_values[0], final_layer1_weights_values[0])
    np.testing.assert_allclose(initial_layer1_weights_values[1], final_layer1_weights_values[1])

    inner_model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Dense(3, activation="relu"),
        ]
    )

    model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            inner_model,
            keras.layers.Dense(3, activation="sigmoid"),
        ]
    )

    model.trainable = False  # Freeze the outer model

    assert inner_model.trainable == False  # noqa: E712 - the guide's check
    assert inner_model.layers[0].trainable == False  # noqa: E712

    # The end-to-end example, on synthetic "cats vs dogs".
    size = (71, 71)
    # Learnable: "dogs" (label 1) are the brighter images.
    y_train = rng.integers(0, 2, size=(8, 1)).astype("float32")
    x_train = rng.uniform(0, 128, size=(8,) + size + (3,)).astype("float32") + 127 * y_train[:, :, None, None]
    y_val = rng.integers(0, 2, size=(8, 1)).astype("float32")
    x_val = rng.uniform(0, 128, size=(8,) + size + (3,)).astype("float32") + 127 * y_val[:, :, None, None]
    batch_size = 8

    data_augmentation = keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.1),
        ]
    )
    augmented_image = data_augmentation(np.expand_dims(x_train[0], 0), training=True)
    assert tuple(augmented_image.shape) == (1,) + size + (3,)

    base_model = keras.applications.Xception(
        weights=None,  # (the guide loads "imagenet")
        input_shape=size + (3,),
        include_top=False,
    )  # Do not include the ImageNet classifier at the top.

    # Freeze the base_model
    base_model.trainable = False

    # Create new model on top
    inputs = keras.Input(shape=size + (3,))
    x = data_augmentation(inputs)  # Apply random data augmentation

    # Pre-trained Xception weights requires that input be scaled from (0, 255) to a range of
    # (-1., +1.), the rescaling layer outputs: `(inputs * scale) + offset`
    scale_layer = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)
    x = scale_layer(x)

    # The base model contains batchnorm layers: it runs in inference mode here.
    x = base_model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)  # Regularize with dropout
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2

    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    if on_model is not None:
        on_model(model)
    results["initial_evaluation"] = model.evaluate(x_val, y_val, batch_size=batch_size, verbose=0,
                                                   return_dict=True)
    frozen = [np.array(w) for w in base_model.weights]
    epochs = 2
    first = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                      validation_data=(x_val, y_val), verbose=0, shuffle=shuffle)
    for before, after in zip(frozen, base_model.weights):
        np.testing.assert_array_equal(before, np.array(after))

    # Unfreeze the base_model. It keeps running in inference mode since we passed
    # `training=False` when calling it: the batchnorm layers do not update their statistics.
    base_model.trainable = True
    moving = [np.array(w) for w in base_model.non_trainable_weights]
    assert len(moving) > 0 and len(model.trainable_weights) > 2

    model.compile(
        optimizer=keras.optimizers.Adam(1e-5),  # Low learning rate
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    epochs = 1
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        validation_data=(x_val, y_val), verbose=0, shuffle=shuffle)
    results["moving_statistics_changed"] = {"fraction": [float(np.mean(
        [not np.array_equal(b, np.array(a)) for b, a in zip(moving, base_model.non_trainable_weights)]))]}
    changed = [not np.array_equal(b, np.array(a)) for b, a in zip(frozen, base_model.weights)]
    assert any(changed), "fine-tuning left the base model unchanged"
    first.results = results
    return first

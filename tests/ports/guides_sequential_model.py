"""Port of keras-io `guides/sequential_model.py` (The Sequential model, fchollet, Keras 3 edition).

Changed: prints -> asserts of what the guide prints, the transfer-learning sketch's data and
`fit` (the guide leaves them as `...`) -> seeded synthetic arrays and a short fit with
`verbose=0`, the Xception transfer-learning sketch dropped (pretrained weights), the library
passed in as `keras`. Kept: calling a Sequential and the layer-by-layer equivalent, `layers`,
`add` / `pop`, a named Sequential, deferred building (`weights` empty before the first call,
then 6 weights), `keras.Input` first and `summary`, the "add then summary" debugging workflow
with Conv2D / MaxPooling2D / GlobalMaxPooling2D, feature extraction with
`keras.Model(inputs=initial_model.inputs, outputs=[layer.output for layer in ...])` and one
layer's output by `get_layer(name=...)`, and the transfer-learning recipe freezing all layers
but the last.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the transfer fit's History.

    `on_model(model)` is called on each model before it computes (the parity test copies
    Keras's initial weights in); `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    # Define Sequential model with 3 layers
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    # Call model on a test input
    x = ops.ones((3, 3))
    y = model(x)

    # Create 3 layers
    layer1 = layers.Dense(2, activation="relu", name="layer1")
    layer2 = layers.Dense(3, activation="relu", name="layer2")
    layer3 = layers.Dense(4, name="layer3")

    # Call layers on a test input
    x = ops.ones((3, 3))
    for layer, source in zip((layer1, layer2, layer3), model.layers):
        layer.build((None, source.get_weights()[0].shape[0]))
        layer.set_weights(source.get_weights())
    y2 = layer3(layer2(layer1(x)))
    np.testing.assert_allclose(ops.convert_to_numpy(y2), ops.convert_to_numpy(y), rtol=1e-6)

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    model.pop()
    assert len(model.layers) == 2

    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    assert model.name == "my_sequential"

    layer = layers.Dense(3)
    assert layer.weights == []  # Empty

    # Call layer on a test input
    x = ops.ones((1, 4))
    y = layer(x)
    assert [tuple(w.shape) for w in layer.get_weights()] == [(4, 3), (3,)]

    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )  # No weights at this stage!

    # Call the model on a test input
    x = ops.ones((1, 4))
    y = model(x)
    assert len(model.weights) == 6

    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    lines = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line))
    assert any("Total params: 10" in line for line in lines), lines
    assert [type(l).__name__ for l in model.layers] == ["Dense"]

    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    assert tuple(model.output_shape) == (None, 40, 40, 32), model.output_shape
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    assert tuple(model.output_shape) == (None, 4, 4, 32), model.output_shape
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(10))

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )
    on_model(feature_extractor)
    # Call feature extractor on test input.
    x = rng.random((1, 250, 250, 3)).astype("float32")
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [(1, 123, 123, 32), (1, 121, 121, 32), (1, 119, 119, 32)]
    results["features"] = {"sums": [float(ops.convert_to_numpy(ops.sum(f))) for f in features]}

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    # Call feature extractor on test input.
    features = feature_extractor(x)
    assert tuple(features.shape) == (1, 121, 121, 32)

    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(10),
        ]
    )

    # Presumably you would want to first load pre-trained weights.
    # model.load_weights(...)

    # Freeze all layers except the last one.
    for layer in model.layers[:-1]:
        layer.trainable = False
    assert len(model.trainable_weights) == 2

    # Recompile and train (this will only update the weights of the last layer).
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    on_model(model)
    frozen = [np.asarray(w) for w in model.get_weights()[:6]]
    history = model.fit(rng.random((64, 784)).astype("float32"), rng.integers(0, 10, size=(64,)), batch_size=16,
                        epochs=2, shuffle=shuffle, verbose=0)
    for before, after in zip(frozen, model.get_weights()[:6]):
        np.testing.assert_array_equal(before, np.asarray(after))
    history.results = results
    return history

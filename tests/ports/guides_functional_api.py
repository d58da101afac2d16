"""Port of keras-io `guides/functional_api.py` (The Functional API, fchollet, Keras 3 edition).

Changed: data (`keras.datasets.mnist` / `cifar10` and the guide's random arrays -> seeded
synthetic arrays of the same shapes and dtypes, n=64), sizes (the ticket model's num_words
10000 -> 100, embeddings 64 -> 8, LSTMs 128 / 32 -> 8 / 4, body length 100 -> 12; the toy
ResNet on 16x16 images with 8 / 16 filters and Dense 256 -> 16; the autoencoder's 16 / 32 filters
-> 4 / 8 but its 16-wide code), epochs 2 / 1 -> 2, `verbose=0`, files written to a temporary folder, the VGG19 feature
extraction and plotting dropped, the library passed in as `keras`. Kept: the MNIST model with
`validation_split`, `evaluate` and the `.keras` save/load round trip; the encoder/decoder
autoencoder and models used as layers; the ensembling of three models; the multi-input
multi-output ticket model compiled first with loss and loss-weight lists, then with dicts, and
fitted on dicts; the toy ResNet; shared embedding; CustomDense with `get_config` /
`from_config` and `custom_objects`; a subclassed CustomRNN calling a functional model and a
functional model calling a subclassed layer. The ticket model's History is returned.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the ticket model's History.

    `on_model(model)` is called on each model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled; the toy ResNet has
    dropout, so its fit is left out there).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    # MNIST model.
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    model.summary(print_fn=lambda *a, **k: None)
    assert model.name == "mnist_model" and [type(l).__name__ for l in model.layers][0] == "InputLayer"

    x_train = rng.random((64, 784)).astype("float32")
    y_train = rng.integers(0, 10, size=(64,))
    x_test = rng.random((16, 784)).astype("float32")
    y_test = rng.integers(0, 10, size=(16,))
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    on_model(model)
    results["mnist"] = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2,
                                 shuffle=shuffle, verbose=0).history
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    results["mnist_test"] = {"loss": [test_scores[0]], "accuracy": [test_scores[1]]}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "my_model.keras")
        model.save(path)
        expected = model.predict(x_test, verbose=0)
        del model
        # Recreate the exact same model purely from the file:
        model = keras.models.load_model(path)
        np.testing.assert_allclose(model.predict(x_test, verbose=0), expected, rtol=1e-5, atol=1e-6)

    # All models are callable, just like layers.
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(4, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(4, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(4, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    autoencoder.summary(print_fn=lambda *a, **k: None)
    assert tuple(autoencoder.output.shape) == (None, 28, 28, 1), autoencoder.output.shape
    assert [l.name for l in autoencoder.layers] == ["img", "encoder", "decoder"]

    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    probe = rng.random((2, 128)).astype("float32")
    np.testing.assert_allclose(
        ensemble_model.predict(probe, verbose=0),
        (model1.predict(probe, verbose=0) + model2.predict(probe, verbose=0) + model3.predict(probe, verbose=0)) / 3,
        rtol=1e-5, atol=1e-6)

    # Models with multiple inputs and outputs.
    num_tags = 12  # Number of unique issue tags
    num_words = 100  # Size of vocabulary obtained when preprocessing text data
    num_departments = 4  # Number of departments for predictions

    title_input = keras.Input(shape=(None,), name="title")  # Variable-length sequence of ints
    body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
    tags_input = keras.Input(shape=(num_tags,), name="tags")  # Binary vectors of size `num_tags`

    # Embed each word in the title into a 64-dimensional vector
    title_features = layers.Embedding(num_words, 8)(title_input)
    # Embed each word in the text into a 64-dimensional vector
    body_features = layers.Embedding(num_words, 8)(body_input)

    # Reduce sequence of embedded words in the title into a single 128-dimensional vector
    title_features = layers.LSTM(8)(title_features)
    # Reduce sequence of embedded words in the body into a single 32-dimensional vector
    body_features = layers.LSTM(4)(body_features)

    # Merge all available features into a single large vector via concatenation
    x = layers.concatenate([title_features, body_features, tags_input])

    # Stick a logistic regression for priority prediction on top of the features
    priority_pred = layers.Dense(1, name="priority")(x)
    # Stick a department classifier on top of the features
    department_pred = layers.Dense(num_departments, name="department")(x)

    # Instantiate an end-to-end model predicting both priority and department
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.BinaryCrossentropy(from_logits=True),
            keras.losses.CategoricalCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0, 0.2],
    )

    # Dummy input data
    title_data = rng.integers(num_words, size=(64, 10))
    body_data = rng.integers(num_words, size=(64, 12))
    tags_data = rng.integers(2, size=(64, num_tags)).astype("float32")

    # Dummy target data
    priority_targets = rng.random(size=(64, 1))
    dept_targets = rng.integers(2, size=(64, num_departments))

    on_model(model)
    results["tickets_lists"] = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2, batch_size=32, shuffle=shuffle, verbose=0,
    ).history

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )

    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        shuffle=shuffle,
        verbose=0,
    )
    results["tickets_evaluate"] = model.evaluate(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets}, verbose=0, return_dict=True)

    # A toy ResNet model.
    inputs = keras.Input(shape=(16, 16, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)

    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(16, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)

    model = keras.Model(inputs, outputs, name="toy_resnet")
    model.summary(print_fn=lambda *a, **k: None)
    x_train = rng.integers(0, 256, size=(64, 16, 16, 3)).astype("float32") / 255.0
    y_train = keras.utils.to_categorical(rng.integers(0, 10, size=(64, 1)), 10)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    resnet_history = model.fit(x_train, y_train, batch_size=64, epochs=1, validation_split=0.2, verbose=0)
    assert sorted(resnet_history.history) == ["acc", "loss", "val_acc", "val_loss"]

    # Shared layers.
    shared_embedding = layers.Embedding(1000, 128)
    text_input_a = keras.Input(shape=(None,), dtype="int32")
    text_input_b = keras.Input(shape=(None,), dtype="int32")
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    shared = keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])
    assert len(shared.weights) == 1

    # Extend the API using custom layers.
    class CustomDense(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)

    model = keras.Model(inputs, outputs)
    config = model.get_config()

    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    assert [w.shape for w in new_model.get_weights()] == [(4, 10), (10,)]

    # Mix-and-match API styles.
    units = 8
    timesteps = 10
    input_dim = 5

    # Define a Functional model
    inputs = keras.Input((None, units))
    x = layers.GlobalAveragePooling1D()(inputs)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    class CustomRNN(layers.Layer):
        def __init__(self):
            super().__init__()
            self.units = units
            self.projection_1 = layers.Dense(units=units, activation="tanh")
            self.projection_2 = layers.Dense(units=units, activation="tanh")
            # Our previously-defined Functional model
            self.classifier = model

        def call(self, inputs):
            outputs = []
            state = ops.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = ops.stack(outputs, axis=1)
            return self.classifier(features)

    rnn_model = CustomRNN()
    out = rnn_model(ops.zeros((1, timesteps, input_dim)))
    assert tuple(out.shape) == (1, 1), out.shape

    inputs = keras.Input(batch_shape=(1, timesteps, input_dim))
    x = layers.Conv1D(8, 3)(inputs)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    class CustomRNN2(layers.Layer):
        def __init__(self):
            super().__init__()
            self.units = units
            self.projection_1 = layers.Dense(units=units, activation="tanh")
            self.projection_2 = layers.Dense(units=units, activation="tanh")
            self.classifier = layers.Dense(1)

        def call(self, inputs):
            outputs = []
            state = ops.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = ops.stack(outputs, axis=1)
            return self.classifier(features)

    # Note that you specify a static batch size for the inputs with the `batch_shape`
    # arg, because the inner computation of `CustomRNN2` requires a static batch size
    # (when you create the `state` zeros tensor).
    inputs = keras.Input(batch_shape=(1, timesteps, input_dim))
    x = layers.Conv1D(8, 3)(inputs)
    outputs = CustomRNN2()(x)

    model = keras.Model(inputs, outputs)

    rnn_model = CustomRNN2()
    _ = rnn_model(ops.zeros((1, 10, 5)))
    assert tuple(model.output.shape) == (1, 8, 1), model.output.shape
    history.results = results
    return history

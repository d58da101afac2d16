"""The guide's models (shared/seeds), written once against any Keras-like library.

Each builder takes the library module (`keras` or `keraslike`) so the same code builds the model
in Keras 3 and in keraslike, as the parity tests need.
"""


def mnist_model(lib):
    layers = lib.layers
    inputs = lib.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return lib.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def encoder_decoder(lib):
    layers = lib.layers
    encoder_input = lib.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = lib.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = lib.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = lib.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = lib.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = lib.Model(autoencoder_input, decoded_img, name="autoencoder")
    return encoder, decoder, autoencoder


def shared_graph_autoencoder(lib):
    """The guide's first autoencoder: encoder and autoencoder over one graph."""
    layers = lib.layers
    encoder_input = lib.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = lib.Model(encoder_input, encoder_output, name="encoder")
    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    autoencoder = lib.Model(encoder_input, decoder_output, name="autoencoder")
    return encoder, autoencoder


def ensemble(lib):
    def get_model():
        inputs = lib.Input(shape=(128,))
        outputs = lib.layers.Dense(1)(inputs)
        return lib.Model(inputs, outputs)

    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = lib.Input(shape=(128,))
    y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
    outputs = lib.layers.average([y1, y2, y3])
    return lib.Model(inputs=inputs, outputs=outputs)


def ticket_model(lib, num_tags=12, num_words=10000, num_departments=4):
    layers = lib.layers
    title_input = lib.Input(shape=(None,), name="title")
    body_input = lib.Input(shape=(None,), name="body")
    tags_input = lib.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 64)(title_input)
    body_features = layers.Embedding(num_words, 64)(body_input)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    return lib.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )


def toy_resnet(lib):
    layers = lib.layers
    inputs = lib.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return lib.Model(inputs, outputs, name="toy_resnet")


def big_conv_sequential(lib):
    """Seed 001's 92,218,123-parameter Sequential model."""
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input(shape=(224, 224, 3)),
            layers.Conv2D(100, 5, activation="tanh", name="first_layer"),
            layers.Conv2D(50, 5, activation="tanh", name="second_layer"),
            layers.Conv2D(32, 5, activation="tanh", name="third_layer"),
            layers.Flatten(name="flatten_layer"),
            layers.Dense(64, activation="relu", name="fifthy_layer"),
            layers.Dense(1, activation="sigmoid", name="output_layer"),
        ],
        name="s_model",
    )

"""Port of keras-io `examples/vision/conv_lstm.py` (Next-Frame Video Prediction with
Convolutional LSTMs, Amogh Joshi, Keras 3 edition).

Changed: data (the Moving MNIST download -> synthetic sequences of a bright square moving one
pixel per frame over (12, 12) frames, seeded, 10 sequences of 6 frames, the example's 90/10
split and one-frame shift into inputs and targets), filters 64 -> 4 (CPU test time), epochs
20 -> 2, batch_size 5 kept, `verbose=0`, plotting and GIF writing dropped, the library passed
in as `keras`. The model (three ConvLSTM2D with BatchNormalization on inputs of unknown
length, a Conv3D head), compile (binary crossentropy, Adam), EarlyStopping and
ReduceLROnPlateau on `val_loss`, and the frame-by-frame prediction loop (sequences growing by
one predicted frame per step) are the example's.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    rng = np.random.default_rng(0)

    # Moving squares: (samples, frames, height, width).
    num_sequences, num_frames, size = 10, 6, 12
    dataset = np.zeros((num_sequences, num_frames, size, size), "float32")
    for i in range(num_sequences):
        row, col = rng.integers(0, size - 6, size=2)
        for t in range(num_frames):
            dataset[i, t, row + 1 : row + 4, col + t : col + t + 3] = 255.0
    dataset = np.expand_dims(dataset, axis=-1)

    # Split into train and validation sets using indexing to optimize memory.
    indexes = np.arange(dataset.shape[0])
    rng.shuffle(indexes)
    train_index = indexes[: int(0.9 * dataset.shape[0])]
    val_index = indexes[int(0.9 * dataset.shape[0]) :]
    train_dataset = dataset[train_index]
    val_dataset = dataset[val_index]

    # Normalize the data to the 0-1 range.
    train_dataset = train_dataset / 255
    val_dataset = val_dataset / 255

    # We'll define a helper function to shift the frames, where
    # `x` is frames 0 to n - 1, and `y` is frames 1 to n.
    def create_shifted_frames(data):
        x = data[:, 0 : data.shape[1] - 1, :, :]
        y = data[:, 1 : data.shape[1], :, :]
        return x, y

    # Apply the processing function to the datasets.
    x_train, y_train = create_shifted_frames(train_dataset)
    x_val, y_val = create_shifted_frames(val_dataset)

    # Construct the input layer with no definite frame size.
    inp = layers.Input(shape=(None, *x_train.shape[2:]))

    # We will construct 3 `ConvLSTM2D` layers with batch normalization,
    # followed by a `Conv3D` layer for the spatiotemporal outputs.
    x = layers.ConvLSTM2D(
        filters=4,
        kernel_size=(5, 5),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=4,
        kernel_size=(3, 3),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=4,
        kernel_size=(1, 1),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)

    # Next, we will build the complete model and compile it.
    model = keras.models.Model(inp, x)
    model.compile(
        loss=keras.losses.binary_crossentropy,
        optimizer=keras.optimizers.Adam(),
    )

    # Define some callbacks to improve training.
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
    reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)

    # Define modifiable training hyperparameters.
    epochs = 2
    batch_size = 5

    if on_model:
        on_model(model)
    # Fit the model to the training data.
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[early_stopping, reduce_lr],
        shuffle=shuffle,
        verbose=0,
    )

    # Select a random example from the validation dataset.
    example = val_dataset[0]

    # Pick the first/last three frames from the example.
    frames = example[:3, ...]
    original_frames = example[3:, ...]

    # Predict a new set of 3 frames.
    for _ in range(3):
        # Extract the model's prediction and post-process it.
        new_prediction = model.predict(np.expand_dims(frames, axis=0), verbose=0)
        new_prediction = np.squeeze(new_prediction, axis=0)
        predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

        # Extend the set of prediction frames.
        frames = np.concatenate((frames, predicted_frame), axis=0)
    assert frames.shape == (6, size, size, 1) and original_frames.shape == (3, size, size, 1), frames.shape
    history.results = {"prediction": {"last_frame_mean": [float(frames[-1].mean())]}}
    return history

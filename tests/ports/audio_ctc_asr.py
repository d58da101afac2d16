"""Port of keras-io `examples/audio/ctc_asr.py` (Automatic Speech Recognition using CTC, Mohamed
Reda Bouadjenek and Ngoc Dung Huynh).

Changed: data (the LJSpeech download -> 16 seeded synthetic clips of 2,496-3,136 float samples
with transcripts of 2-4 characters from the example's alphabet; 12 for training, 4 for
validation), batch_size 32 -> 4, epochs 1 -> 3, `rnn_units` 512 -> 16 and `rnn_layers` 5 -> 2,
`keras.backend.clear_session()` added at the start (the example, alone in its process, names
a layer "dense_1", which an earlier model's layers in the same session would make a duplicate),
prints and plots -> recorded numbers, `verbose=0`, the library
passed in as `keras`. TensorFlow calls -> `keras.ops` / NumPy: `tf.signal.stft` ->
`ops.stft(..., window="hann", center=False)` (the periodic Hann window, no padding, as TF's),
`tf.abs` of the complex spectrum -> `ops.sqrt(real**2 + imag**2)`, `tf.math.pow` ->
`ops.power`, `reduce_mean` / `reduce_std` -> `ops.mean` / `ops.std`; the `StringLookup`
pair (Keras's needs TensorFlow) -> a Python list and dict over the same vocabulary (`""` at
index 0); `padded_batch` -> a `keras.utils.PyDataset` padding each batch with zeros to its
longest clip and transcript (so the time axis differs from batch to batch, as in the example);
Keras 2's `keras.backend.ctc_batch_cost` (probabilities, blank = the last class) ->
`ops.ctc_loss` on `ops.log` of the probabilities with `mask_index` the last class (the same
loss: log-softmax of log-probabilities is themselves), `keras.backend.ctc_decode(greedy=True)`
-> `ops.ctc_decode(strategy="greedy", mask_index=<last class>)`; `jiwer.wer` -> a word edit
distance written here. Kept: the DeepSpeech2-like model (Reshape, two strided `same` Conv2D
without bias + BatchNormalization + ReLU, Reshape, Bidirectional GRU with `reset_after`, Dropout,
Dense + ReLU, softmax Dense), Adam(1e-4), compile with the CTC loss function,
`CallbackEval` predicting and decoding the validation set after each epoch, and the
inference loop after training. Added: an evaluation and a prediction from the initial weights
and the first spectrogram, kept in `History.results` (the parity test compares them).
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    results = {}
    keras.backend.clear_session()  # the example names a layer "dense_1": start the names afresh

    # The set of characters accepted in the transcription.
    characters = [x for x in "abcdefghijklmnopqrstuvwxyz'?! "]
    # Mapping characters to integers (index 0 is the OOV token "")
    vocabulary = [""] + characters
    char_to_num = {c: i for i, c in enumerate(vocabulary)}
    # Mapping integers back to original characters
    num_to_char = vocabulary

    def words(length):
        return "".join(characters[i] for i in rng.integers(0, 26, size=length))

    clips = [rng.normal(0.0, 0.3, size=rng.integers(2496, 3137)).astype("float32") for _ in range(16)]
    transcripts = [words(rng.integers(2, 5)) for _ in range(16)]

    # An integer scalar Tensor. The window length in samples.
    frame_length = 256
    # An integer scalar Tensor. The number of samples to step.
    frame_step = 160
    # An integer scalar Tensor. The size of the FFT to apply.
    fft_length = 384

    def encode_single_sample(audio, label):
        # 4. Get the spectrogram
        real, imag = ops.stft(
            ops.convert_to_tensor(audio),
            sequence_length=frame_length,
            sequence_stride=frame_step,
            fft_length=fft_length,
            window="hann",
            center=False,
        )
        # 5. We only need the magnitude
        spectrogram = ops.sqrt(real**2 + imag**2)
        spectrogram = ops.power(spectrogram, 0.5)
        # 6. normalisation
        means = ops.mean(spectrogram, 1, keepdims=True)
        stddevs = ops.std(spectrogram, 1, keepdims=True)
        spectrogram = (spectrogram - means) / (stddevs + 1e-10)
        # 7-9. Lower case, split and map the characters in label to numbers
        label = np.array([char_to_num.get(c, 0) for c in label.lower()], dtype="int64")
        return ops.convert_to_numpy(spectrogram), label

    samples = [encode_single_sample(a, t) for a, t in zip(clips, transcripts)]

    class PaddedBatches(keras.utils.PyDataset):
        """`padded_batch(batch_size)`: each batch padded with zeros to its longest element."""

        def __init__(self, samples, batch_size):
            super().__init__()
            self.samples = samples
            self.batch_size = batch_size

        def __len__(self):
            return -(-len(self.samples) // self.batch_size)

        def __getitem__(self, index):
            batch = self.samples[index * self.batch_size : (index + 1) * self.batch_size]
            frames = max(s.shape[0] for s, _ in batch)
            chars = max(len(y) for _, y in batch)
            x = np.zeros((len(batch), frames, batch[0][0].shape[1]), "float32")
            y = np.zeros((len(batch), chars), "int64")
            for i, (s, label) in enumerate(batch):
                x[i, : s.shape[0]] = s
                y[i, : len(label)] = label
            return x, y

    batch_size = 4
    train_dataset = PaddedBatches(samples[:12], batch_size)
    validation_dataset = PaddedBatches(samples[12:], batch_size)

    def CTCLoss(y_true, y_pred):
        # Compute the training-time loss value
        batch_len = ops.shape(y_true)[0]
        input_length = ops.shape(y_pred)[1]
        label_length = ops.shape(y_true)[1]

        input_length = input_length * ops.ones(shape=(batch_len,), dtype="int64")
        label_length = label_length * ops.ones(shape=(batch_len,), dtype="int64")

        blank = ops.shape(y_pred)[-1] - 1
        loss = ops.ctc_loss(
            ops.cast(y_true, "int64"), ops.log(y_pred + 1e-7), label_length, input_length, mask_index=blank
        )
        return ops.expand_dims(loss, -1)

    def build_model(input_dim, output_dim, rnn_layers=5, rnn_units=128):
        """Model similar to DeepSpeech2."""
        # Model's input
        input_spectrogram = layers.Input((None, input_dim), name="input")
        # Expand the dimension to use 2D CNN.
        x = layers.Reshape((-1, input_dim, 1), name="expand_dim")(input_spectrogram)
        # Convolution layer 1
        x = layers.Conv2D(
            filters=32,
            kernel_size=[11, 41],
            strides=[2, 2],
            padding="same",
            use_bias=False,
            name="conv_1",
        )(x)
        x = layers.BatchNormalization(name="conv_1_bn")(x)
        x = layers.ReLU(name="conv_1_relu")(x)
        # Convolution layer 2
        x = layers.Conv2D(
            filters=32,
            kernel_size=[11, 21],
            strides=[1, 2],
            padding="same",
            use_bias=False,
            name="conv_2",
        )(x)
        x = layers.BatchNormalization(name="conv_2_bn")(x)
        x = layers.ReLU(name="conv_2_relu")(x)
        # Reshape the resulted volume to feed the RNNs layers
        x = layers.Reshape((-1, x.shape[-2] * x.shape[-1]))(x)
        # RNN layers
        for i in range(1, rnn_layers + 1):
            recurrent = layers.GRU(
                units=rnn_units,
                activation="tanh",
                recurrent_activation="sigmoid",
                use_bias=True,
                return_sequences=True,
                reset_after=True,
                name=f"gru_{i}",
            )
            x = layers.Bidirectional(recurrent, name=f"bidirectional_{i}", merge_mode="concat")(x)
            if i < rnn_layers:
                x = layers.Dropout(rate=0.5)(x)
        # Dense layer
        x = layers.Dense(units=rnn_units * 2, name="dense_1")(x)
        x = layers.ReLU(name="dense_1_relu")(x)
        x = layers.Dropout(rate=0.5)(x)
        # Classification layer
        output = layers.Dense(units=output_dim + 1, activation="softmax")(x)
        # Model
        model = keras.Model(input_spectrogram, output, name="DeepSpeech_2")
        # Optimizer
        opt = keras.optimizers.Adam(learning_rate=1e-4)
        # Compile the model and return
        model.compile(optimizer=opt, loss=CTCLoss)
        return model

    # Get the model
    model = build_model(
        input_dim=fft_length // 2 + 1,
        output_dim=len(vocabulary),
        rnn_layers=2,
        rnn_units=16,
    )
    assert model.output_shape == (None, None, len(vocabulary) + 1)

    # A utility function to decode the output of the network
    def decode_batch_predictions(pred):
        input_len = np.ones(pred.shape[0]) * pred.shape[1]
        # Use greedy search. For complex tasks, you can use beam search
        results = ops.ctc_decode(pred, sequence_lengths=input_len, strategy="greedy", mask_index=pred.shape[-1] - 1)[0][0]
        # Iterate over the results and get back the text
        output_text = []
        for result in ops.convert_to_numpy(results):
            output_text.append("".join(num_to_char[i] for i in result if 0 <= i < len(num_to_char)))
        return output_text

    def wer(targets, predictions):
        """Word error rate: word edit distance over the number of target words."""
        errors, total = 0, 0
        for target, prediction in zip(targets, predictions):
            t, p = target.split(), prediction.split()
            row = list(range(len(p) + 1))
            for i, tw in enumerate(t, 1):
                prev, row[0] = row[0], i
                for j, pw in enumerate(p, 1):
                    prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (tw != pw))
            errors += row[-1]
            total += len(t)
        return errors / total

    def label_text(label):
        return "".join(num_to_char[i] for i in label)

    scores = []

    # A callback class to output a few transcriptions during training
    class CallbackEval(keras.callbacks.Callback):
        """Displays a batch of outputs after every epoch."""

        def __init__(self, dataset):
            super().__init__()
            self.dataset = dataset

        def on_epoch_end(self, epoch: int, logs=None):
            predictions = []
            targets = []
            for index in range(len(self.dataset)):
                X, y = self.dataset[index]
                batch_predictions = model.predict(X, verbose=0)
                batch_predictions = decode_batch_predictions(batch_predictions)
                predictions.extend(batch_predictions)
                for label in y:
                    targets.append(label_text(label))
            scores.append(wer(targets, predictions))

    # Define the number of epochs.
    epochs = 3
    # Callback function to check transcription on the val set.
    validation_callback = CallbackEval(validation_dataset)
    on_model(model)
    # Evaluated from the initial weights (the parity test compares these): the loss on the
    # validation batches and the first batch's probabilities.
    results["initial"] = {
        "val_loss": model.evaluate(validation_dataset, verbose=0),
        "probabilities": model.predict(validation_dataset[0][0], verbose=0),
    }
    # Train the model
    history = model.fit(
        train_dataset,
        validation_data=validation_dataset,
        epochs=epochs,
        callbacks=[validation_callback],
        verbose=0,
        shuffle=shuffle,
    )
    assert len(scores) == epochs

    # Let's check results on more validation samples
    predictions = []
    targets = []
    probabilities = []
    for index in range(len(validation_dataset)):
        X, y = validation_dataset[index]
        batch_predictions = model.predict(X, verbose=0)
        probabilities.append(batch_predictions)
        batch_predictions = decode_batch_predictions(batch_predictions)
        predictions.extend(batch_predictions)
        for label in y:
            targets.append(label_text(label))
    wer_score = wer(targets, predictions)
    assert 0.0 <= wer_score <= 2.0 and np.concatenate(probabilities).shape[-1] == len(vocabulary) + 1
    results["spectrogram"] = {"first": samples[0][0]}
    history.results = results
    return history

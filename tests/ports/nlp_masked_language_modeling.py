"""Port of keras-io `examples/nlp/masked_language_modeling.py` (End-to-end Masked Language
Modeling with BERT, Ankur Singh, Keras 3 edition).

Changed: data (the IMDB download, pandas and the tf.strings-based TextVectorization ->
synthetic token ids: a vocabulary of 60 words, reviews of 16 tokens whose sentiment decides
which half of the vocabulary dominates, 0 padding, the last id the mask token, seeded,
64 / 32 reviews), the tf.data pipelines -> numpy arrays, config (MAX_LEN 256 -> 16,
VOCAB_SIZE 30000 -> 60, EMBED_DIM 128 -> 16, NUM_HEAD 8 -> 2, FF_DIM 128 -> 16,
BATCH_SIZE 32 -> 16), epochs 5 -> 2, `keras_hub.layers.PositionEmbedding` -> the same layer
written out (as keras-io's CCT example does), the callback's pprint -> recording its top-k
tokens, the `.keras` file written to a temporary folder, the end-to-end model's pandas/tf.data
`evaluate` -> numpy, the library passed in as `keras`. `get_masked_input_and_labels` (15% BERT
masking, sample weights), `bert_module`, MaskedLanguageModel (overriding `compute_loss` with
per-token sample weights and `compute_metrics`, a module-level loss tracker in `metrics`),
saving and `load_model(custom_objects=...)`, the sub-model from `get_layer(...).output`, the
frozen then unfrozen classifier fits, and the end-to-end model overriding `evaluate` and
`build` are the example's. Added: `evaluate` from the copied initial weights in parity runs.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History of the MLM fit.

    `on_model(model)` is called on the MLM and the classifier before they train (the parity
    test copies Keras's initial weights in and compares `evaluate` there).
    """
    layers = keras.layers
    rng = np.random.default_rng(0)

    class Config:
        MAX_LEN = 16
        BATCH_SIZE = 16
        LR = 0.001
        VOCAB_SIZE = 60
        EMBED_DIM = 16
        NUM_HEAD = 2  # used in bert model
        FF_DIM = 16  # used in bert model
        NUM_LAYERS = 1

    config = Config()
    mask_token_id = config.VOCAB_SIZE - 1

    def reviews(n):
        sentiment = rng.integers(0, 2, size=n)
        half = (config.VOCAB_SIZE - 4) // 2
        lengths = rng.integers(8, config.MAX_LEN + 1, size=n)
        ids = 3 + sentiment[:, None] * half + rng.integers(0, half, size=(n, config.MAX_LEN))
        ids = np.where(np.arange(config.MAX_LEN)[None, :] < lengths[:, None], ids, 0)
        return ids.astype("int64"), sentiment

    x_train, y_train = reviews(64)
    x_test, y_test = reviews(32)
    x_all_review = np.concatenate([x_train, x_test])

    def get_masked_input_and_labels(encoded_texts):
        # 15% BERT masking
        inp_mask = rng.random(encoded_texts.shape) < 0.15
        # Do not mask special tokens
        inp_mask[encoded_texts <= 2] = False
        # Set targets to -1 by default, it means ignore
        labels = -1 * np.ones(encoded_texts.shape, dtype=int)
        # Set labels for masked tokens
        labels[inp_mask] = encoded_texts[inp_mask]

        # Prepare input
        encoded_texts_masked = np.copy(encoded_texts)
        # Set input to [MASK] which is the last token for the 90% of tokens
        # This means leaving 10% unchanged
        inp_mask_2mask = inp_mask & (rng.random(encoded_texts.shape) < 0.90)
        encoded_texts_masked[inp_mask_2mask] = mask_token_id  # mask token is the last in the dict

        # Set 10% to a random token
        inp_mask_2random = inp_mask_2mask & (rng.random(encoded_texts.shape) < 1 / 9)
        encoded_texts_masked[inp_mask_2random] = rng.integers(3, mask_token_id, inp_mask_2random.sum())

        # Prepare sample_weights to pass to .fit() method
        sample_weights = np.ones(labels.shape)
        sample_weights[labels == -1] = 0

        # y_labels would be same as encoded_texts i.e input tokens
        y_labels = np.copy(encoded_texts)

        return encoded_texts_masked, y_labels, sample_weights

    x_masked_train, y_masked_labels, sample_weights = get_masked_input_and_labels(x_all_review)

    class PositionEmbedding(layers.Layer):
        def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
            super().__init__(**kwargs)
            self.sequence_length = int(sequence_length)
            self.initializer = keras.initializers.get(initializer)

        def get_config(self):
            config = super().get_config()
            config.update({"sequence_length": self.sequence_length,
                           "initializer": keras.initializers.serialize(self.initializer)})
            return config

        def build(self, input_shape):
            feature_size = input_shape[-1]
            self.position_embeddings = self.add_weight(
                name="embeddings", shape=[self.sequence_length, feature_size],
                initializer=self.initializer, trainable=True)
            super().build(input_shape)

        def call(self, inputs, start_index=0):
            shape = keras.ops.shape(inputs)
            position_embeddings = keras.ops.convert_to_tensor(self.position_embeddings)
            position_embeddings = keras.ops.slice(position_embeddings, (start_index, 0), (shape[-2], shape[-1]))
            return keras.ops.broadcast_to(position_embeddings, shape)

        def compute_output_shape(self, input_shape):
            return input_shape

    def bert_module(query, key, value, i):
        # Multi headed self-attention
        attention_output = layers.MultiHeadAttention(
            num_heads=config.NUM_HEAD,
            key_dim=config.EMBED_DIM // config.NUM_HEAD,
            name="encoder_{}_multiheadattention".format(i),
        )(query, key, value)
        attention_output = layers.Dropout(0.1, name="encoder_{}_att_dropout".format(i))(attention_output)
        attention_output = layers.LayerNormalization(
            epsilon=1e-6, name="encoder_{}_att_layernormalization".format(i)
        )(query + attention_output)

        # Feed-forward layer
        ffn = keras.Sequential(
            [
                layers.Dense(config.FF_DIM, activation="relu"),
                layers.Dense(config.EMBED_DIM),
            ],
            name="encoder_{}_ffn".format(i),
        )
        ffn_output = ffn(attention_output)
        ffn_output = layers.Dropout(0.1, name="encoder_{}_ffn_dropout".format(i))(ffn_output)
        sequence_output = layers.LayerNormalization(
            epsilon=1e-6, name="encoder_{}_ffn_layernormalization".format(i)
        )(attention_output + ffn_output)
        return sequence_output

    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    loss_tracker = keras.metrics.Mean(name="loss")

    class MaskedLanguageModel(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            loss = loss_fn(y, y_pred, sample_weight)
            loss_tracker.update_state(loss, sample_weight=sample_weight)
            return keras.ops.sum(loss)

        def compute_metrics(self, x, y, y_pred, sample_weight):
            # Return a dict mapping metric names to current value
            return {"loss": loss_tracker.result()}

        @property
        def metrics(self):
            return [loss_tracker]

    def create_masked_language_bert_model():
        inputs = layers.Input((config.MAX_LEN,), dtype="int64")

        word_embeddings = layers.Embedding(config.VOCAB_SIZE, config.EMBED_DIM, name="word_embedding")(inputs)
        position_embeddings = PositionEmbedding(sequence_length=config.MAX_LEN)(word_embeddings)
        embeddings = word_embeddings + position_embeddings

        encoder_output = embeddings
        for i in range(config.NUM_LAYERS):
            encoder_output = bert_module(encoder_output, encoder_output, encoder_output, i)

        mlm_output = layers.Dense(config.VOCAB_SIZE, name="mlm_cls", activation="softmax")(encoder_output)
        mlm_model = MaskedLanguageModel(inputs, mlm_output, name="masked_bert_model")

        optimizer = keras.optimizers.Adam(learning_rate=config.LR)
        mlm_model.compile(optimizer=optimizer)
        return mlm_model

    id2token = {i: f"word{i}" for i in range(config.VOCAB_SIZE)}
    id2token[0], id2token[mask_token_id] = "", "[mask]"

    class MaskedTextGenerator(keras.callbacks.Callback):
        def __init__(self, sample_tokens, top_k=5):
            self.sample_tokens = sample_tokens
            self.k = top_k
            self.predicted = []

        def on_epoch_end(self, epoch, logs=None):
            prediction = self.model.predict(self.sample_tokens, verbose=0)

            masked_index = np.where(self.sample_tokens == mask_token_id)
            masked_index = masked_index[1]
            mask_prediction = prediction[0][masked_index]

            top_indices = mask_prediction[0].argsort()[-self.k :][::-1]
            self.predicted.append([id2token[p] for p in top_indices])

    sample_tokens = np.array([[5, 9, 17, 3, mask_token_id, 8, 4, 30] + [0] * (config.MAX_LEN - 8)])
    generator_callback = MaskedTextGenerator(sample_tokens)

    bert_masked_model = create_masked_language_bert_model()
    bert_masked_model.summary(print_fn=lambda *a, **k: None)

    results = {}
    if on_model:
        on_model(bert_masked_model)
        results["mlm_evaluate_before"] = bert_masked_model.evaluate(
            x_masked_train, y_masked_labels, sample_weight=sample_weights, batch_size=config.BATCH_SIZE,
            verbose=0, return_dict=True)
    history = bert_masked_model.fit(
        x_masked_train, y_masked_labels, sample_weight=sample_weights, batch_size=config.BATCH_SIZE,
        epochs=2, callbacks=[generator_callback], shuffle=shuffle, verbose=0)
    assert len(generator_callback.predicted) == 2 and len(generator_callback.predicted[0]) == 5

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bert_mlm_imdb.keras")
        bert_masked_model.save(path)
        mlm_model = keras.models.load_model(
            path,
            custom_objects={"MaskedLanguageModel": MaskedLanguageModel, "PositionEmbedding": PositionEmbedding},
        )
    np.testing.assert_allclose(mlm_model.predict(x_test[:4], verbose=0),
                               bert_masked_model.predict(x_test[:4], verbose=0), rtol=1e-5, atol=1e-6)
    pretrained_bert_model = keras.Model(
        mlm_model.input, mlm_model.get_layer("encoder_0_ffn_layernormalization").output
    )

    # Freeze it
    pretrained_bert_model.trainable = False

    def create_classifier_bert_model():
        inputs = layers.Input((config.MAX_LEN,), dtype="int64")
        sequence_output = pretrained_bert_model(inputs)
        pooled_output = layers.GlobalMaxPooling1D()(sequence_output)
        hidden_layer = layers.Dense(64, activation="relu")(pooled_output)
        outputs = layers.Dense(1, activation="sigmoid")(hidden_layer)
        classifer_model = keras.Model(inputs, outputs, name="classification")
        optimizer = keras.optimizers.Adam()
        classifer_model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
        return classifer_model

    classifer_model = create_classifier_bert_model()
    classifer_model.summary(print_fn=lambda *a, **k: None)
    assert len(classifer_model.trainable_weights) == 4, len(classifer_model.trainable_weights)

    if on_model:
        on_model(classifer_model)
        results["classifier_evaluate_before"] = classifer_model.evaluate(
            x_test, y_test, batch_size=config.BATCH_SIZE, verbose=0, return_dict=True)
    frozen = [np.asarray(w) for w in pretrained_bert_model.get_weights()]
    classifer_model.fit(x_train, y_train, batch_size=config.BATCH_SIZE, epochs=2,
                        validation_data=(x_test, y_test), shuffle=shuffle, verbose=0)
    for before, after in zip(frozen, pretrained_bert_model.get_weights()):
        np.testing.assert_array_equal(before, np.asarray(after))

    # Unfreeze the BERT model for fine-tuning
    pretrained_bert_model.trainable = True
    optimizer = keras.optimizers.Adam()
    classifer_model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    classifer_model.fit(x_train, y_train, batch_size=config.BATCH_SIZE, epochs=1,
                        validation_data=(x_test, y_test), shuffle=shuffle, verbose=0)

    class ModelEndtoEnd(keras.Model):
        def evaluate(self, inputs):
            features = inputs["review"]
            labels = inputs["sentiment"]
            return super().evaluate(features, labels, batch_size=config.BATCH_SIZE, verbose=0)

        # Build the model
        def build(self, input_shape):
            self.built = True

    def get_end_to_end(model):
        inputs = classifer_model.inputs
        outputs = classifer_model.outputs
        end_to_end_model = ModelEndtoEnd(inputs, outputs, name="end_to_end_model")
        optimizer = keras.optimizers.Adam(learning_rate=config.LR)
        end_to_end_model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
        return end_to_end_model

    end_to_end_classification_model = get_end_to_end(classifer_model)
    loss, accuracy = end_to_end_classification_model.evaluate({"review": x_test, "sentiment": y_test})
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    history.results = results
    return history

"""Port of keras-io `examples/structured_data/structured_data_classification_from_scratch.py`
(Structured data classification from scratch, fchollet; backend-agnostic edition by Humbulani
Ndou).

Changed: data (the Cleveland heart-disease CSV read by pandas -> a seeded synthetic table of 303
rows with the same 13 feature columns, dtypes and value sets: integer categories `sex`, `cp`,
`fbs`, `restecg`, `exang`, `ca`, the string category `thal`, six numeric columns, a 0/1 target),
`dataframe.sample(frac=0.2, random_state=1337)` -> a seeded 61-row validation split, the
`tf.data` pipeline -> NumPy columns (the per-row `encode_categorical` map runs once on each
whole column shaped `(n, 1)`, one sample per row; the shuffled, batched dataset ->
`fit(batch_size=32, shuffle=...)`; `adapt` reads the training column as an `(n, 1)` array),
epochs 50 -> 8, `plot_model` and prints dropped, `tf.convert_to_tensor` ->
`keras.ops.convert_to_tensor`, the library passed in as `keras`. The data pipeline's
`IntegerLookup` / `StringLookup` (`output_mode="binary"`, no mask, no OOV index) are keraslike's
in both runs: they run outside the model, as the example's `tf.data` map does, and Keras 3's
need TensorFlow (not installed here). Kept: the metadata, the sorted vocabularies read from the
data, the lookups' arguments, a `Normalization` adapted per numeric feature inside the model,
the dict of `Input`s (categorical ones `int64` of the vocabulary's width), the `Classifier`
layer taking that dict (concatenating its values with `layers.concatenate` inside `call`, its
`build` only setting `built`), compile with "adam", "binary_crossentropy" and "accuracy", `fit`
with `validation_data`, and the one-patient `predict` with `get_cat_encoding`. Added: an
evaluation from the initial weights kept in `History.results` (the parity test compares it), the
patient's prediction in `History.after_training`.
"""

import numpy as np

import keraslike


def _synthetic_dataframe(rng, n=303):
    """The CSV's columns as NumPy arrays: same names, dtypes and value sets."""
    columns = {
        "age": rng.integers(29, 78, n),
        "sex": rng.integers(0, 2, n),
        "cp": rng.integers(0, 5, n),
        "trestbps": rng.integers(94, 201, n),
        "chol": rng.integers(126, 565, n),
        "fbs": rng.integers(0, 2, n),
        "restecg": rng.integers(0, 3, n),
        "thalach": rng.integers(71, 203, n),
        "exang": rng.integers(0, 2, n),
        "oldpeak": np.round(rng.uniform(0.0, 6.2, n), 1),
        "slope": rng.integers(1, 4, n),
        "ca": rng.integers(0, 4, n),
        "thal": rng.choice(np.array(["fixed", "normal", "reversible"], dtype=object), n),
    }
    # The target leans on a few features, so there is something to learn.
    score = (columns["cp"] >= 3) + (columns["thal"] == "reversible") + (columns["ca"] >= 2) + (columns["oldpeak"] > 2)
    columns["target"] = (score + rng.random(n) > 1.5).astype("int64")
    return columns


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    results = {}

    dataframe = _synthetic_dataframe(rng)
    val_index = rng.permutation(303)[:61]
    train_mask = np.ones(303, dtype=bool)
    train_mask[val_index] = False
    val_dataframe = {name: column[val_index] for name, column in dataframe.items()}
    train_dataframe = {name: column[train_mask] for name, column in dataframe.items()}

    COLUMN_NAMES = [
        "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang",
        "oldpeak", "slope", "ca", "thal", "target",
    ]
    # Target feature name.
    TARGET_FEATURE_NAME = "target"
    # Numeric feature names.
    NUMERIC_FEATURE_NAMES = ["age", "trestbps", "thalach", "oldpeak", "slope", "chol"]
    # Categorical features and their vocabulary lists.
    CATEGORICAL_FEATURES_WITH_VOCABULARY = {
        feature_name: sorted(
            [
                # Integer categorcal must be int and string must be str
                int(value) if dataframe[feature_name].dtype == "int64" else str(value)
                for value in list(np.unique(dataframe[feature_name]))
            ]
        )
        for feature_name in COLUMN_NAMES
        if feature_name not in list(NUMERIC_FEATURE_NAMES + [TARGET_FEATURE_NAME])
    }
    # All features names.
    FEATURE_NAMES = NUMERIC_FEATURE_NAMES + list(CATEGORICAL_FEATURES_WITH_VOCABULARY.keys())

    # We process our datasets elements here (categorical) and convert them to indices to avoid
    # this step during model training (the example's `tf.data` map; keraslike's lookups in
    # both runs, see the header).
    def encode_categorical(features, target):
        features = dict(features)
        for feature_name in features:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                lookup_class = (
                    keraslike.layers.StringLookup
                    if features[feature_name].dtype == object
                    else keraslike.layers.IntegerLookup
                )
                vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
                index = lookup_class(
                    vocabulary=vocabulary,
                    mask_token=None,
                    num_oov_indices=0,
                    output_mode="binary",
                )
                # Convert the string input values into integer indices (one row per sample:
                # a 1-D input would be one multi-hot sample).
                value_index = index(features[feature_name][:, None])
                features[feature_name] = keraslike.ops.convert_to_numpy(value_index)
        return features, target

    def dataframe_to_dataset(dataframe):
        dataframe = dict(dataframe)
        labels = dataframe.pop("target")
        return encode_categorical(dataframe, labels)

    train_x, train_y = dataframe_to_dataset(train_dataframe)
    val_x, val_y = dataframe_to_dataset(val_dataframe)

    def encode_numerical_feature(feature, name, dataset):
        # Create a Normalization layer for our feature
        normalizer = layers.Normalization()
        # Learn the statistics of the data
        normalizer.adapt(np.expand_dims(dataset[0][name].astype("float32"), -1))
        # Normalize the input feature
        encoded_feature = normalizer(feature)
        return encoded_feature

    def create_model_inputs():
        inputs = {}

        # This a helper function for creating categorical features
        def create_input_helper(feature_name):
            num_categories = len(CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name])
            inputs[feature_name] = layers.Input(name=feature_name, shape=(num_categories,), dtype="int64")
            return inputs

        for feature_name in FEATURE_NAMES:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                # Categorical features
                create_input_helper(feature_name)
            else:
                # Make them float32, they are Real numbers
                feature_input = layers.Input(name=feature_name, shape=(1,), dtype="float32")
                # Process the Inputs here
                inputs[feature_name] = encode_numerical_feature(feature_input, feature_name, (train_x, train_y))
        return inputs

    # This Layer defines the logic of the Model to perform the classification
    class Classifier(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense_1 = layers.Dense(32, activation="relu")
            self.dropout = layers.Dropout(0.5)
            self.dense_2 = layers.Dense(1, activation="sigmoid")

        def call(self, inputs):
            all_features = layers.concatenate(list(inputs.values()))
            x = self.dense_1(all_features)
            x = self.dropout(x)
            output = self.dense_2(x)
            return output

        # Surpress build warnings
        def build(self, input_shape):
            self.built = True

    # Create the Classifier model
    def create_model():
        all_inputs = create_model_inputs()
        output = Classifier()(all_inputs)
        model = keras.Model(all_inputs, output)
        return model

    model = create_model()
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    on_model(model)
    results["initial"] = model.evaluate(val_x, val_y, batch_size=32, verbose=0, return_dict=True)

    history = model.fit(train_x, train_y, batch_size=32, epochs=8, validation_data=(val_x, val_y),
                        shuffle=shuffle, verbose=0)

    sample = {
        "age": 60, "sex": 1, "cp": 1, "trestbps": 145, "chol": 233, "fbs": 1, "restecg": 2,
        "thalach": 150, "exang": 0, "oldpeak": 2.3, "slope": 3, "ca": 0, "thal": "fixed",
    }

    # Given the category (in the sample above - key) and the category value (in the sample
    # above - value), we return its one-hot encoding
    def get_cat_encoding(cat, cat_value):
        # Create a list of zeros with the same length as categories
        encoding = [0] * len(cat)
        # Find the index of category_value in categories and set the corresponding position to 1
        if cat_value in cat:
            encoding[cat.index(cat_value)] = 1
        return encoding

    for name, value in sample.items():
        if name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
            sample.update({name: get_cat_encoding(CATEGORICAL_FEATURES_WITH_VOCABULARY[name], sample[name])})
    # Convert inputs to tensors
    input_dict = {name: keras.ops.convert_to_tensor([value]) for name, value in sample.items()}
    predictions = model.predict(input_dict, verbose=0)
    history.after_training = {"patient": {"probability": predictions[0]}}
    history.results = results
    return history

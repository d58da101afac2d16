"""Port of keras-io `examples/structured_data/classification_with_grn_and_vsn.py` (Classification
with Gated Residual and Variable Selection Networks, Khalid Salama, Keras 3 backend-agnostic
edition).

Changed: data (the UCI Census-Income KDD download -> synthetic rows with a few of the
example's columns: 3 numeric, 3 categorical with small vocabularies, an instance weight and a
0/1 income level, seeded, n=160 / 40 / 40), the `tf.data` CSV pipeline -> numpy dicts given to
`fit` with the weights as `sample_weight` (its `layers.StringLookup`, which needs TensorFlow,
-> the same sorted-vocabulary index in numpy, applied once), batch_size 265 -> 32, num_epochs
1 -> 3, encoding_size 16 -> 8, `keras.utils.plot_model` dropped (needs pydot), `verbose=0`,
printing dropped, the library passed in as `keras`. `GatedLinearUnit`,
`GatedResidualNetwork`, `VariableSelection` (Embeddings kept in a dict and GRNs in a list,
both filled after assignment; `build(self)` without a shape; `keras.backend.backend()` choosing
a `torch.sum` for the weighted sum), `create_model`, compile, EarlyStopping on "val_loss" with
`restore_best_weights=True`, fit and evaluate are the example's.
Added: an evaluation and predictions from the initial weights (dropout makes training
random), and the weight count, kept in `History.results` for the parity test.
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it evaluates and trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    TARGET_FEATURE_NAME = "income_level"
    WEIGHT_COLUMN_NAME = "instance_weight"
    NUMERIC_FEATURE_NAMES = ["age", "wage_per_hour", "weeks_worked_in_year"]
    raw_vocabularies = {
        "class_of_worker": ["Private", "Self-employed", "Not in universe", "Federal government"],
        "education": ["Bachelors degree", "High school graduate", "Children"],
        "sex": ["Female", "Male"],
    }

    def make_rows(n):
        rows = {
            "age": rng.integers(0, 90, size=n).astype("float32"),
            "wage_per_hour": rng.integers(0, 2000, size=n).astype("float32") / 100,
            "weeks_worked_in_year": rng.integers(0, 53, size=n).astype("float32"),
        }
        for name, values in raw_vocabularies.items():
            rows[name] = np.array(values)[rng.integers(0, len(values), size=n)]
        rows[WEIGHT_COLUMN_NAME] = rng.uniform(500, 3000, size=n).astype("float32")
        score = rows["weeks_worked_in_year"] / 52 + (rows["education"] == "Bachelors degree")
        rows[TARGET_FEATURE_NAME] = (score + rng.normal(0, 0.3, size=n) > 1.2).astype("float32")
        return rows

    data, valid_data, test_data = make_rows(160), make_rows(40), make_rows(40)

    CATEGORICAL_FEATURES_WITH_VOCABULARY = {
        feature_name: sorted([str(value) for value in list(np.unique(data[feature_name]))])
        for feature_name in raw_vocabularies
    }
    FEATURE_NAMES = NUMERIC_FEATURE_NAMES + list(CATEGORICAL_FEATURES_WITH_VOCABULARY.keys())

    def process(rows):
        features = {}
        for feature_name in FEATURE_NAMES:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
                features[feature_name] = np.array([vocabulary.index(v) for v in rows[feature_name]], "int64")
            else:
                features[feature_name] = rows[feature_name]
        # Get the instance weight.
        weight = rows[WEIGHT_COLUMN_NAME]
        return features, rows[TARGET_FEATURE_NAME], weight

    def create_model_inputs():
        inputs = {}
        for feature_name in FEATURE_NAMES:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                # Make them int64, they are Categorical (whole units)
                inputs[feature_name] = layers.Input(name=feature_name, shape=(), dtype="int64")
            else:
                # Make them float32, they are Real numbers
                inputs[feature_name] = layers.Input(name=feature_name, shape=(), dtype="float32")
        return inputs

    class GatedLinearUnit(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.linear = layers.Dense(units)
            self.sigmoid = layers.Dense(units, activation="sigmoid")

        def call(self, inputs):
            return self.linear(inputs) * self.sigmoid(inputs)

    class GatedResidualNetwork(layers.Layer):
        def __init__(self, units, dropout_rate):
            super().__init__()
            self.units = units
            self.elu_dense = layers.Dense(units, activation="elu")
            self.linear_dense = layers.Dense(units)
            self.dropout = layers.Dropout(dropout_rate)
            self.gated_linear_unit = GatedLinearUnit(units)
            self.layer_norm = layers.LayerNormalization()
            self.project = layers.Dense(units)

        def call(self, inputs):
            x = self.elu_dense(inputs)
            x = self.linear_dense(x)
            x = self.dropout(x)
            if inputs.shape[-1] != self.units:
                inputs = self.project(inputs)
            x = inputs + self.gated_linear_unit(x)
            x = self.layer_norm(x)
            return x

    class VariableSelection(layers.Layer):
        def __init__(self, num_features, units, dropout_rate):
            super().__init__()
            self.units = units
            # Create an embedding layers with the specified dimensions
            self.embeddings = dict()
            for input_ in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[input_]
                embedding_encoder = layers.Embedding(input_dim=len(vocabulary), output_dim=self.units, name=input_)
                self.embeddings[input_] = embedding_encoder

            # Projection layers for numeric features
            self.proj_layer = dict()
            for input_ in NUMERIC_FEATURE_NAMES:
                proj_layer = layers.Dense(units=self.units)
                self.proj_layer[input_] = proj_layer

            self.grns = list()
            # Create a GRN for each feature independently
            for idx in range(num_features):
                grn = GatedResidualNetwork(units, dropout_rate)
                self.grns.append(grn)
            # Create a GRN for the concatenation of all the features
            self.grn_concat = GatedResidualNetwork(units, dropout_rate)
            self.softmax = layers.Dense(units=num_features, activation="softmax")

        def call(self, inputs):
            concat_inputs = []
            for input_ in inputs:
                if input_ in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                    max_index = self.embeddings[input_].input_dim - 1  # Clamp the indices
                    # torch had some index errors during embedding hence the clip function
                    embedded_feature = self.embeddings[input_](keras.ops.clip(inputs[input_], 0, max_index))
                    concat_inputs.append(embedded_feature)
                else:
                    # Project the numeric feature to encoding_size using linear transformation.
                    proj_feature = keras.ops.expand_dims(inputs[input_], -1)
                    proj_feature = self.proj_layer[input_](proj_feature)
                    concat_inputs.append(proj_feature)

            v = layers.concatenate(concat_inputs)
            v = self.grn_concat(v)
            v = keras.ops.expand_dims(self.softmax(v), axis=-1)
            x = []
            for idx, input in enumerate(concat_inputs):
                x.append(self.grns[idx](input))
            x = keras.ops.stack(x, axis=1)

            def matmul_dependent_on_backend(thsi, v):
                """Function for executing matmul for each backend (the example's torch branch)."""
                if keras.backend.backend() == "torch":
                    result = torch.sum(thsi * v, dim=1)
                else:
                    raise ValueError("Unsupported backend: {}".format(keras.backend.backend()))
                return result

            if keras.backend.backend() == "torch":
                result_torch = matmul_dependent_on_backend(v, x)
                return result_torch

        # to remove the build warnings
        def build(self):
            self.built = True

    learning_rate = 0.001
    dropout_rate = 0.15
    batch_size = 32
    num_epochs = 3
    encoding_size = 8

    def create_model(encoding_size):
        inputs = create_model_inputs()
        num_features = len(inputs)
        features = VariableSelection(num_features, encoding_size, dropout_rate)(inputs)
        outputs = layers.Dense(units=1, activation="sigmoid")(features)
        # Functional model
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    model = create_model(encoding_size)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )

    # Create an early stopping callback.
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)

    train_x, train_y, train_w = process(data)
    valid_dataset = process(valid_data)
    on_model(model)
    valid_x, valid_y, valid_w = valid_dataset
    results = {"initial": model.evaluate(valid_x, valid_y, sample_weight=valid_w, batch_size=batch_size,
                                         verbose=0, return_dict=True)}
    results["predict"] = {"probabilities": model.predict(valid_dataset[0], verbose=0).ravel().tolist(),
                          "weights": [len(model.weights)]}
    history = model.fit(train_x, train_y, sample_weight=train_w, batch_size=batch_size, epochs=num_epochs,
                        validation_data=valid_dataset, callbacks=[early_stopping], verbose=0, shuffle=shuffle)

    test_x, test_y, test_w = process(test_data)
    _, accuracy = model.evaluate(test_x, test_y, sample_weight=test_w, batch_size=batch_size, verbose=0)
    assert 0.0 <= accuracy <= 1.0, accuracy
    history.results = results
    return history

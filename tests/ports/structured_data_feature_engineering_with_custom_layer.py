"""Port of keras-io `examples/structured_data/feature_engineering_with_custom_layer.py`
(Feature Engineering using Keras Functional API and custom Feature layer, Fernando
Nieuwveldt).

Changed: data (the heart-disease CSV read by `tf.data.experimental.make_csv_dataset` -> a seeded
synthetic table of 303 rows with the CSV's 13 feature columns and target, the batched, shuffled,
10-times repeated dataset -> `fit(batch_size=64, shuffle=...)` on NumPy columns), epochs 10 ->
4, `plot_model` dropped, `tf.keras.*` -> the library passed in as `keras`, `tf.cast` /
`tf.math.logical_and` -> `keras.ops`, `super(FeatureLayer, self)` -> `super()`. The string
column `thal` ("fixed" / "normal" / "reversible") -> its integer code 0 / 1 / 2 as a float32
input, compared with those codes in `FeatureLayer` (Keras 3 on torch has no string tensors).
`tf.keras.models.save_model(model, "saved_model")` (a TF SavedModel) -> `model.save` to a
`.keras` file in a temporary folder and `keras.models.load_model` with `FeatureLayer` in
`custom_objects`. Kept: the dtype map and dict of `Input`s, `FeatureLayer` (engineered
features: age-and-gender flag, the three thal flags, a ratio and a product, concatenated with
the numeric and binary inputs by `layers.concatenate` inside `call`), BatchNormalization, the
sigmoid Dense named "target", compile with `BinaryCrossentropy()`, `Adam(0.01)`,
`BinaryAccuracy(name="accuracy")` and `AUC(name="auc")`, and the loaded model's evaluation as a
dict over `metrics_names`. Added: an evaluation from the initial weights kept in
`History.results` (the parity test compares it); the trained and reloaded models' evaluations
in `History.after_training`.
"""

import os
import tempfile

import numpy as np

THAL_CODES = {"fixed": 0.0, "normal": 1.0, "reversible": 2.0}


def _synthetic_heart_data(rng, n=303):
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
        "thal": rng.integers(0, 3, n),
    }
    score = (columns["cp"] >= 3) + (columns["thal"] == 2) + (columns["ca"] >= 2) + (columns["oldpeak"] > 2)
    target = (score + rng.random(n) > 1.5).astype("float32")
    return {name: column.astype("float32")[:, None] for name, column in columns.items()}, target


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    results = {}

    features, labels = _synthetic_heart_data(rng)

    binary_features = ["sex", "fbs", "exang"]
    numeric_features = ["trestbps", "chol", "thalach", "oldpeak", "slope", "cp", "restecg", "ca"]

    dtype_mapper = {
        "age": "float32",
        "sex": "float32",
        "cp": "float32",
        "trestbps": "float32",
        "chol": "float32",
        "fbs": "float32",
        "restecg": "float32",
        "thalach": "float32",
        "exang": "float32",
        "oldpeak": "float32",
        "slope": "float32",
        "ca": "float32",
        "thal": "float32",
    }

    def create_inputs(data_type_mapper):
        """Create model inputs

        Args:
            data_type_mapper (dict): Dictionary with feature as key and dtype as value
                                     For example {'age': "float32", ...}
        Returns:
            (dict): Keras inputs for each feature
        """
        return {
            feature: keras.Input(shape=(1,), name=feature, dtype=dtype)
            for feature, dtype in data_type_mapper.items()
        }

    feature_layer_inputs = create_inputs(dtype_mapper)

    class FeatureLayer(keras.layers.Layer):
        """Custom Layer for Feature engineering steps"""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)

        def call(self, inputs):
            age_and_gender = ops.cast(
                ops.logical_and(inputs["age"] > 50, inputs["sex"] == 1),
                dtype="float32",
            )

            thal_fixed_category = ops.cast(inputs["thal"] == THAL_CODES["fixed"], dtype="float32")
            thal_reversible_category = ops.cast(inputs["thal"] == THAL_CODES["reversible"], dtype="float32")
            thal_normal_category = ops.cast(inputs["thal"] == THAL_CODES["normal"], dtype="float32")

            trest_chol_ratio = inputs["trestbps"] / inputs["chol"]
            trest_cross_thalach = inputs["trestbps"] * inputs["thalach"]

            # concat all newly created features into one layer
            feature_list = [
                thal_fixed_category,
                thal_reversible_category,
                thal_normal_category,
                age_and_gender,
                trest_chol_ratio,
                trest_cross_thalach,
            ]

            engineered_feature_layer = keras.layers.concatenate(feature_list)

            numeric_feature_layer = keras.layers.concatenate([inputs[feature] for feature in numeric_features])

            binary_feature_layer = keras.layers.concatenate([inputs[feature] for feature in binary_features])

            # Add the rest of features into final feature layer
            feature_layer = keras.layers.concatenate(
                [engineered_feature_layer, numeric_feature_layer, binary_feature_layer]
            )

            return feature_layer

    # setup model, this is basically Logistic regression
    feature_layer = FeatureLayer(name="feature_layer")(feature_layer_inputs)
    x = keras.layers.BatchNormalization(name="batch_norm")(feature_layer)
    output = keras.layers.Dense(1, activation="sigmoid", name="target")(x)
    model = keras.Model(inputs=feature_layer_inputs, outputs=output)
    model.compile(
        loss=keras.losses.BinaryCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        metrics=[
            keras.metrics.BinaryAccuracy(name="accuracy"),
            keras.metrics.AUC(name="auc"),
        ],
    )
    on_model(model)
    results["initial"] = model.evaluate(features, labels, batch_size=64, verbose=0, return_dict=True)

    history = model.fit(features, labels, batch_size=64, epochs=4, shuffle=shuffle, verbose=0)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "feature_model.keras")
        # save model
        model.save(path)
        # load model for inference
        loaded_model = keras.models.load_model(path, custom_objects={"FeatureLayer": FeatureLayer})

    trained = model.evaluate(features, labels, batch_size=64, verbose=0)
    loaded = dict(zip(loaded_model.metrics_names, loaded_model.evaluate(features, labels, batch_size=64, verbose=0)))
    history.after_training = {"trained": trained, "loaded": loaded}
    history.results = results
    return history

"""Port of keras-io `examples/structured_data/deep_neural_decision_forests.py` (Classification
with Neural Decision Forests, Khalid Salama, Keras 3 edition).

Changed: data (the UCI Adult census CSVs -> synthetic rows with the example's numeric and
categorical columns, fewer of each: 3 numeric, 3 categorical with small string vocabularies,
seeded, n=192 / 64, labels " <=50K" / " >50K"), the `tf.data.experimental.make_csv_dataset`
pipeline -> numpy dicts given to `fit` (`StringLookup` layers, which need TensorFlow in Keras 3,
-> a small numpy class of the same calls, `vocabulary_size()` and mapping strings to indices,
applied once to the numpy columns instead of in `Dataset.map`),
depth 10 -> 3, num_trees 25 -> 3, forest depth 5 -> 2, batch_size 265 -> 32, num_epochs
10 -> 2, `verbose=0`, printing dropped, the library passed in as `keras`. `np.random.seed(0)` is
added at the start so both libraries draw the same feature masks (`np.random.choice`).
Inputs (a dict of scalar `shape=()` Inputs), `encode_inputs` (Embedding of the categorical
indices sized from the leftover `lookup` as in the example, `keras.ops.expand_dims` of the
numeric ones, `layers.concatenate`), `NeuralDecisionTree` and `NeuralDecisionForest`
(subclassed Models used as layers of a functional model: a weight added in `__init__`, a
constant mask tensor, `ops.shape(x)[0]` as batch size for `ops.ones`/`ops.zeros`/`ops.reshape`,
`ops.tile`, slicing, `layers.concatenate` inside `call`), compile, fit and evaluate are the
example's. The test accuracies are kept in `History.results`.
"""

import math

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the forest's History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops

    class StringLookup:
        """numpy stand-in for `layers.StringLookup` (Keras 3's needs TensorFlow)."""

        def __init__(self, vocabulary, mask_token=None, num_oov_indices=0):
            self.vocabulary = list(vocabulary)

        def vocabulary_size(self):
            return len(self.vocabulary)

        def __call__(self, values):
            return np.array([self.vocabulary.index(v) for v in values], dtype="int64")

    rng = np.random.default_rng(0)
    np.random.seed(0)
    on_model = on_model or (lambda model: None)
    results = {}

    NUMERIC_FEATURE_NAMES = ["age", "education_num", "hours_per_week"]
    CATEGORICAL_FEATURES_WITH_VOCABULARY = {
        "gender": sorted([" Male", " Female"]),
        "race": sorted([" White", " Black", " Other"]),
        # Last and largest, as native_country in the example: `encode_inputs` sizes every
        # Embedding from the last lookup's vocabulary.
        "workclass": sorted([" Private", " Self-emp-not-inc", " State-gov", " Local-gov"]),
    }
    CATEGORICAL_FEATURE_NAMES = list(CATEGORICAL_FEATURES_WITH_VOCABULARY.keys())
    FEATURE_NAMES = NUMERIC_FEATURE_NAMES + CATEGORICAL_FEATURE_NAMES
    TARGET_LABELS = [" <=50K", " >50K"]

    def make_rows(n):
        features = {
            "age": rng.integers(17, 90, size=n).astype("float32"),
            "education_num": rng.integers(1, 16, size=n).astype("float32"),
            "hours_per_week": rng.integers(1, 99, size=n).astype("float32"),
        }
        for name, vocabulary in CATEGORICAL_FEATURES_WITH_VOCABULARY.items():
            features[name] = np.array(vocabulary)[rng.integers(0, len(vocabulary), size=n)]
        score = features["education_num"] / 16 + features["hours_per_week"] / 99 + (features["gender"] == " Male")
        target = np.where(score + rng.normal(0, 0.3, size=n) > 1.5, TARGET_LABELS[1], TARGET_LABELS[0])
        return features, target

    train_data = make_rows(192)
    test_data = make_rows(64)

    target_label_lookup = StringLookup(vocabulary=TARGET_LABELS, mask_token=None, num_oov_indices=0)

    lookup_dict = {}
    for feature_name in CATEGORICAL_FEATURE_NAMES:
        vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
        # Create a lookup to convert a string values to an integer indices.
        # Since we are not using a mask token, nor expecting any out of vocabulary
        # (oov) token, we set mask_token to None and num_oov_indices to 0.
        lookup = StringLookup(vocabulary=vocabulary, mask_token=None, num_oov_indices=0)
        lookup_dict[feature_name] = lookup

    def encode_categorical(batch_x, batch_y):
        for feature_name in CATEGORICAL_FEATURE_NAMES:
            batch_x[feature_name] = lookup_dict[feature_name](batch_x[feature_name])

        return batch_x, batch_y

    def get_dataset(data):
        features, target = data
        features, target = encode_categorical(dict(features), target_label_lookup(target))
        features = {name: ops.convert_to_numpy(value) for name, value in features.items()}
        return features, ops.convert_to_numpy(target)

    def create_model_inputs():
        inputs = {}
        for feature_name in FEATURE_NAMES:
            if feature_name in NUMERIC_FEATURE_NAMES:
                inputs[feature_name] = layers.Input(name=feature_name, shape=(), dtype="float32")
            else:
                inputs[feature_name] = layers.Input(name=feature_name, shape=(), dtype="int32")
        return inputs

    def encode_inputs(inputs):
        encoded_features = []
        for feature_name in inputs:
            if feature_name in CATEGORICAL_FEATURE_NAMES:
                value_index = inputs[feature_name]
                embedding_dims = int(math.sqrt(lookup.vocabulary_size()))
                # Create an embedding layer with the specified dimensions.
                embedding = layers.Embedding(input_dim=lookup.vocabulary_size(), output_dim=embedding_dims)
                # Convert the index values to embedding representations.
                encoded_feature = embedding(value_index)
            else:
                # Use the numerical features as-is.
                encoded_feature = inputs[feature_name]
                if inputs[feature_name].shape[-1] is None:
                    encoded_feature = keras.ops.expand_dims(encoded_feature, -1)

            encoded_features.append(encoded_feature)

        encoded_features = layers.concatenate(encoded_features)
        return encoded_features

    class NeuralDecisionTree(keras.Model):
        def __init__(self, depth, num_features, used_features_rate, num_classes):
            super().__init__()
            self.depth = depth
            self.num_leaves = 2**depth
            self.num_classes = num_classes

            # Create a mask for the randomly selected features.
            num_used_features = int(num_features * used_features_rate)
            one_hot = np.eye(num_features)
            sampled_feature_indices = np.random.choice(np.arange(num_features), num_used_features, replace=False)
            self.used_features_mask = ops.convert_to_tensor(one_hot[sampled_feature_indices], dtype="float32")

            # Initialize the weights of the classes in leaves.
            self.pi = self.add_weight(
                initializer="random_normal",
                shape=[self.num_leaves, self.num_classes],
                dtype="float32",
                trainable=True,
            )

            # Initialize the stochastic routing layer.
            self.decision_fn = layers.Dense(units=self.num_leaves, activation="sigmoid", name="decision")

        def call(self, features):
            batch_size = ops.shape(features)[0]

            # Apply the feature mask to the input features.
            features = ops.matmul(features, ops.transpose(self.used_features_mask))  # [batch_size, num_used_features]
            # Compute the routing probabilities.
            decisions = ops.expand_dims(self.decision_fn(features), axis=2)  # [batch_size, num_leaves, 1]
            # Concatenate the routing probabilities with their complements.
            decisions = layers.concatenate([decisions, 1 - decisions], axis=2)  # [batch_size, num_leaves, 2]

            mu = ops.ones([batch_size, 1, 1])

            begin_idx = 1
            end_idx = 2
            # Traverse the tree in breadth-first order.
            for level in range(self.depth):
                mu = ops.reshape(mu, [batch_size, -1, 1])  # [batch_size, 2 ** level, 1]
                mu = ops.tile(mu, (1, 1, 2))  # [batch_size, 2 ** level, 2]
                level_decisions = decisions[:, begin_idx:end_idx, :]  # [batch_size, 2 ** level, 2]
                mu = mu * level_decisions  # [batch_size, 2**level, 2]
                begin_idx = end_idx
                end_idx = begin_idx + 2 ** (level + 1)

            mu = ops.reshape(mu, [batch_size, self.num_leaves])  # [batch_size, num_leaves]
            probabilities = keras.activations.softmax(self.pi)  # [num_leaves, num_classes]
            outputs = ops.matmul(mu, probabilities)  # [batch_size, num_classes]
            return outputs

    class NeuralDecisionForest(keras.Model):
        def __init__(self, num_trees, depth, num_features, used_features_rate, num_classes):
            super().__init__()
            self.ensemble = []
            # Initialize the ensemble by adding NeuralDecisionTree instances.
            # Each tree will have its own randomly selected input features to use.
            for _ in range(num_trees):
                self.ensemble.append(NeuralDecisionTree(depth, num_features, used_features_rate, num_classes))

        def call(self, inputs):
            # Initialize the outputs: a [batch_size, num_classes] matrix of zeros.
            batch_size = ops.shape(inputs)[0]
            outputs = ops.zeros([batch_size, num_classes])

            # Aggregate the outputs of trees in the ensemble.
            for tree in self.ensemble:
                outputs += tree(inputs)
            # Divide the outputs by the ensemble size to get the average.
            outputs /= len(self.ensemble)
            return outputs

    learning_rate = 0.01
    batch_size = 32
    num_epochs = 2

    def run_experiment(model, name):
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy()],
        )
        on_model(model)
        x, y = get_dataset(train_data)
        history = model.fit(x, y, batch_size=batch_size, epochs=num_epochs, verbose=0, shuffle=shuffle)

        x, y = get_dataset(test_data)
        _, accuracy = model.evaluate(x, y, batch_size=batch_size, verbose=0)
        results[name] = {"test_accuracy": [accuracy]}
        return history

    num_trees = 3
    depth = 3
    used_features_rate = 1.0
    num_classes = len(TARGET_LABELS)

    def create_tree_model():
        inputs = create_model_inputs()
        features = encode_inputs(inputs)
        features = layers.BatchNormalization()(features)
        num_features = features.shape[1]

        tree = NeuralDecisionTree(depth, num_features, used_features_rate, num_classes)

        outputs = tree(features)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    tree_model = create_tree_model()
    results["tree"] = run_experiment(tree_model, "tree_test").history

    num_trees = 3
    depth = 2
    used_features_rate = 0.5

    def create_forest_model():
        inputs = create_model_inputs()
        features = encode_inputs(inputs)
        features = layers.BatchNormalization()(features)
        num_features = features.shape[1]

        forest_model = NeuralDecisionForest(num_trees, depth, num_features, used_features_rate, num_classes)

        outputs = forest_model(features)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    forest_model = create_forest_model()
    history = run_experiment(forest_model, "forest_test")
    history.results = results
    return history

"""Port of keras-io `examples/vision/metric_learning.py` (Metric learning for image similarity
search, Mat Kelcey).

Changed: data (CIFAR-10 -> seeded synthetic float32 images (n, 32, 32, 3) in [0, 1], 200 train
/ 50 test, labels 0-9 in turn, each class's images sharing a class-coloured offset so that
same-class pairs are findable), batches per epoch 1000 -> 8, epochs 20 -> 3, `verbose=0`,
collages, plots and the confusion-matrix display dropped (the confusion matrix itself is
computed with numpy and kept), the library passed in as `keras`. `keras.utils.Sequence` is
Keras 3's `PyDataset` (its `__init__` now called, as Keras 3 asks). TensorFlow calls ->
`keras.ops`: `tf.nn.l2_normalize` on the symbolic embeddings -> `ops.normalize`,
`tf.einsum` -> `ops.einsum`, `tf.range` -> `ops.arange`; `train_step`'s `tf.GradientTape` ->
torch autograd; the workaround for tuple data also unwraps lists (Keras 3 on torch hands a
`PyDataset`'s batch `x` to `train_step` as `[x]`), and the compiled loss is built before `fit`
(Keras 3 otherwise builds it from the model's output on the first batch, a stack of anchors and
positives the model cannot take); Keras 2's `compiled_loss` / `compiled_metrics` (gone in Keras 3) ->
`compute_loss` and the metrics loop of keras-io's torch guide. Kept: the anchor/positive
sampling with Python's `random`, `EmbeddingModel` (the `train_step` override with the
temperature-scaled similarity logits and the workaround for tuple data), the conv embedding
model, compile with Adam(1e-3) and `SparseCategoricalCrossentropy(from_logits=True)`, fit,
`predict` on the test set and the near-neighbour search. Added: an evaluation-like record of
the initial embeddings' similarity loss and the near-neighbour confusion matrix (in
`History.results`).

Seeded, Keras and keraslike agree on the first epoch's loss to 1e-7 and drift to ~2e-4 by the
third: from the same weights the two libraries' gradients agree to 3e-6 (float rounding of
different convolution kernels), which Adam's normalised steps on this tiny data amplify.
"""

import random
from collections import defaultdict

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    height_width = 32
    num_classes = 10

    def make(n):
        y = np.arange(n) % num_classes
        offsets = rng.uniform(0, 1, (num_classes, 1, 1, 3)).astype("float32")
        x = 0.5 * rng.uniform(0, 1, (n, height_width, height_width, 3)).astype("float32") + 0.5 * offsets[y]
        return x.astype("float32"), y

    x_train, y_train = make(200)
    x_test, y_test = make(50)

    class_idx_to_train_idxs = defaultdict(list)
    for y_train_idx, y in enumerate(y_train):
        class_idx_to_train_idxs[y].append(y_train_idx)

    class_idx_to_test_idxs = defaultdict(list)
    for y_test_idx, y in enumerate(y_test):
        class_idx_to_test_idxs[y].append(y_test_idx)

    class AnchorPositivePairs(keras.utils.PyDataset):
        def __init__(self, num_batchs):
            super().__init__()
            self.num_batchs = num_batchs

        def __len__(self):
            return self.num_batchs

        def __getitem__(self, _idx):
            x = np.empty((2, num_classes, height_width, height_width, 3), dtype=np.float32)
            for class_idx in range(num_classes):
                examples_for_class = class_idx_to_train_idxs[class_idx]
                anchor_idx = random.choice(examples_for_class)
                positive_idx = random.choice(examples_for_class)
                while positive_idx == anchor_idx:
                    positive_idx = random.choice(examples_for_class)
                x[0, class_idx] = x_train[anchor_idx]
                x[1, class_idx] = x_train[positive_idx]
            return x

    class EmbeddingModel(keras.Model):
        def train_step(self, data):
            # Note: Workaround for open issue, to be removed.
            if isinstance(data, (tuple, list)):
                data = data[0]
            anchors, positives = data[0], data[1]

            self.zero_grad()
            # Run both anchors and positives through model.
            anchor_embeddings = self(anchors, training=True)
            positive_embeddings = self(positives, training=True)

            # Calculate cosine similarity between anchors and positives. As they have
            # been normalised this is just the pair wise dot products.
            similarities = ops.einsum("ae,pe->ap", anchor_embeddings, positive_embeddings)

            # Since we intend to use these as logits we scale them by a temperature.
            # This value would normally be chosen as a hyper parameter.
            temperature = 0.2
            similarities /= temperature

            # We use these similarities as logits for a softmax. The labels for
            # this call are just the sequence [0, 1, 2, ..., num_classes] since we
            # want the main diagonal values, which correspond to the anchor/positive
            # pairs, to be high. This loss will move embeddings for the
            # anchor/positive pairs together and move all other pairs apart.
            sparse_labels = ops.arange(num_classes)
            loss = self.compute_loss(y=sparse_labels, y_pred=similarities)

            # Calculate gradients and apply via optimizer.
            loss.backward()
            trainable_vars = self.trainable_variables
            gradients = [v.value.grad for v in trainable_vars]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_vars)

            # Update and return metrics (specifically the one for the loss value).
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(sparse_labels, similarities)
            return {m.name: m.result() for m in self.metrics}

    inputs = layers.Input(shape=(height_width, height_width, 3))
    x = layers.Conv2D(filters=32, kernel_size=3, strides=2, activation="relu")(inputs)
    x = layers.Conv2D(filters=64, kernel_size=3, strides=2, activation="relu")(x)
    x = layers.Conv2D(filters=128, kernel_size=3, strides=2, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    embeddings = layers.Dense(units=8, activation=None)(x)
    embeddings = ops.normalize(embeddings, axis=-1)

    model = EmbeddingModel(inputs, embeddings)

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # Keras 3 builds an unbuilt compiled loss from the model's output on the first batch, which
    # is a stack of anchors and positives the model cannot take: it is built here instead.
    model.compute_loss(y=ops.arange(num_classes), y_pred=ops.zeros((num_classes, num_classes)))
    on_model(model)

    def similarity_loss(embeddings_a, embeddings_p):
        logits = np.einsum("ae,pe->ap", embeddings_a, embeddings_p) / 0.2
        logits = logits - logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float(-np.mean(np.diag(log_probs)))

    first = [class_idx_to_train_idxs[c][0] for c in range(num_classes)]
    second = [class_idx_to_train_idxs[c][1] for c in range(num_classes)]
    results = {"initial": {"similarity_loss": [similarity_loss(model.predict(x_train[first], verbose=0),
                                                              model.predict(x_train[second], verbose=0))]}}

    history = model.fit(AnchorPositivePairs(num_batchs=8), epochs=3, verbose=0, shuffle=shuffle)

    near_neighbours_per_example = 10

    embeddings = model.predict(x_test, verbose=0)
    gram_matrix = np.einsum("ae,be->ab", embeddings, embeddings)
    near_neighbours = np.argsort(gram_matrix.T)[:, -(near_neighbours_per_example + 1) :]

    confusion_matrix = np.zeros((num_classes, num_classes))

    # For each class.
    for class_idx in range(num_classes):
        # Consider 10 examples.
        example_idxs = class_idx_to_test_idxs[class_idx][:10]
        for y_test_idx in example_idxs:
            # And count the classes of its near neighbours.
            for nn_idx in near_neighbours[y_test_idx][:-1]:
                nn_class_idx = y_test[nn_idx]
                confusion_matrix[class_idx, nn_class_idx] += 1

    results["test"] = {"embedding_mean": [float(np.abs(embeddings).mean())],
                       "near_neighbour_accuracy": [float(np.trace(confusion_matrix) / confusion_matrix.sum())]}
    history.results = results
    return history

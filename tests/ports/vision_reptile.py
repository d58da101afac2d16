"""Port of keras-io `examples/vision/reptile.py` (Few-shot learning with Reptile, ADMoreau).

Changed: data (Omniglot from `tensorflow_datasets`, resized to 28x28 grayscale -> seeded
synthetic float32 images (28, 28, 1): 12 training and 8 test "characters" of 20 images
each, every character a fixed random stroke pattern plus per-image noise), `meta_iters`
2000 -> 5, `verbose=0` for `predict`, the sample and result plots (and the smoothing only
they use) dropped, the library passed in as `keras`. The mini datasets' `tf.data`
`shuffle(100).batch(...).repeat(...)` -> the same batches from a list shuffled anew each
repetition by a seeded numpy generator; `tf.GradientTape` -> `torch.autograd.grad` of the
per-sample losses' sum (what the tape differentiates); `tf.argmax(test_preds)` (over the
samples, axis 0, as written) -> `ops.argmax(..., axis=0)`. Kept: the `Dataset` sampler with
Python's `random.choices`, the conv/BatchNormalization/ReLU model called in inference mode
(`model(images)`, so BatchNormalization uses its moving statistics, as in the original),
`model.compile()` without arguments, SGD(0.003), the inner loops, the Reptile meta step
through `get_weights` / `set_weights`, the evaluation loop with its weight reset, and the
final few-shot evaluation. Returned: a History-like record whose "loss" is each meta
iteration's mean inner-loop loss, with the train and test few-shot accuracies; `results`
keeps the initial model's predictions on a probe batch.

Seeded, Keras and keraslike agree to float rounding; an evaluation's five SGD steps on one
batch can grow a 1e-7 difference tenfold per step (Keras against itself with oneDNN
convolutions turned off does the same), so late losses agree to ~5e-5.
"""

import random

import numpy as np
import torch


class _Record:
    """What the example tracks, kept per meta iteration like a Keras History."""

    def __init__(self):
        self.history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
        self.results = {}


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns a History-like record.

    `on_model(model)` is called on the model before it trains; with `shuffle=False` the mini
    datasets are not shuffled.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    data_rng = np.random.default_rng(0)
    shuffle_rng = np.random.default_rng(1)
    record = _Record()

    learning_rate = 0.003
    meta_step_size = 0.25

    inner_batch_size = 25
    eval_batch_size = 25

    meta_iters = 5
    eval_iters = 5
    inner_iters = 4

    eval_interval = 1
    train_shots = 20
    shots = 5
    classes = 5

    def batches(images, labels, batch_size, repetitions):
        # `Dataset.from_tensor_slices(...).shuffle(100).batch(batch_size).repeat(repetitions)`
        for _ in range(repetitions):
            order = shuffle_rng.permutation(len(images)) if shuffle else np.arange(len(images))
            for start in range(0, len(images), batch_size):
                index = order[start : start + batch_size]
                yield images[index], labels[index]

    class Dataset:
        # This class will facilitate the creation of a few-shot dataset
        # from the Omniglot dataset that can be sampled from quickly while also
        # allowing to create new labels at the same time.
        def __init__(self, training):
            # Synthetic characters: a stroke pattern each, 20 noisy images of it.
            self.data = {}
            for character in range(12 if training else 8):
                strokes = (data_rng.uniform(size=(28, 28, 1)) > 0.8).astype("float32")
                label = str(character + (0 if training else 100))
                self.data[label] = [
                    np.clip(strokes + data_rng.normal(0, 0.2, (28, 28, 1)), 0, 1).astype("float32") for _ in range(20)
                ]
            self.labels = list(self.data.keys())

        def get_mini_dataset(self, batch_size, repetitions, shots, num_classes, split=False):
            temp_labels = np.zeros(shape=(num_classes * shots))
            temp_images = np.zeros(shape=(num_classes * shots, 28, 28, 1))
            if split:
                test_labels = np.zeros(shape=(num_classes))
                test_images = np.zeros(shape=(num_classes, 28, 28, 1))

            # Get a random subset of labels from the entire label set.
            label_subset = random.choices(self.labels, k=num_classes)
            for class_idx, class_obj in enumerate(label_subset):
                # Use enumerated index value as a temporary label for mini-batch in
                # few shot learning.
                temp_labels[class_idx * shots : (class_idx + 1) * shots] = class_idx
                # If creating a split dataset for testing, select an extra sample from each
                # label to create the test dataset.
                if split:
                    test_labels[class_idx] = class_idx
                    images_to_split = random.choices(self.data[label_subset[class_idx]], k=shots + 1)
                    test_images[class_idx] = images_to_split[-1]
                    temp_images[class_idx * shots : (class_idx + 1) * shots] = images_to_split[:-1]
                else:
                    # For each index in the randomly selected label_subset, sample the
                    # necessary number of images.
                    temp_images[class_idx * shots : (class_idx + 1) * shots] = random.choices(
                        self.data[label_subset[class_idx]], k=shots
                    )

            dataset = batches(temp_images.astype(np.float32), temp_labels.astype(np.int32), batch_size, repetitions)
            if split:
                return dataset, test_images, test_labels
            return dataset

    train_dataset = Dataset(training=True)
    test_dataset = Dataset(training=False)

    def conv_bn(x):
        x = layers.Conv2D(filters=64, kernel_size=3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inputs = layers.Input(shape=(28, 28, 1))
    x = conv_bn(inputs)
    x = conv_bn(x)
    x = conv_bn(x)
    x = conv_bn(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile()
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    on_model(model)
    probe = np.stack(train_dataset.data["0"][:4])
    record.results["initial"] = {"probs": ops.convert_to_numpy(model(probe))}

    def train_on(images, labels):
        preds = model(images)
        loss = keras.losses.sparse_categorical_crossentropy(labels, preds)
        weights = model.trainable_weights
        grads = torch.autograd.grad(ops.sum(loss), [w.value for w in weights])
        with torch.no_grad():
            optimizer.apply_gradients(zip(grads, weights))
        return float(ops.convert_to_numpy(ops.mean(loss)))

    training = []
    testing = []
    for meta_iter in range(meta_iters):
        frac_done = meta_iter / meta_iters
        cur_meta_step_size = (1 - frac_done) * meta_step_size
        # Temporarily save the weights from the model.
        old_vars = model.get_weights()
        # Get a sample from the full dataset.
        mini_dataset = train_dataset.get_mini_dataset(inner_batch_size, inner_iters, train_shots, classes)
        losses = [train_on(images, labels) for images, labels in mini_dataset]
        new_vars = model.get_weights()
        # Perform SGD for the meta step.
        for var in range(len(new_vars)):
            new_vars[var] = old_vars[var] + ((new_vars[var] - old_vars[var]) * cur_meta_step_size)
        # After the meta-learning step, reload the newly-trained weights into the model.
        model.set_weights(new_vars)
        # Evaluation loop
        if meta_iter % eval_interval == 0:
            accuracies = []
            for dataset in (train_dataset, test_dataset):
                # Sample a mini dataset from the full dataset.
                train_set, test_images, test_labels = dataset.get_mini_dataset(
                    eval_batch_size, eval_iters, shots, classes, split=True
                )
                old_vars = model.get_weights()
                # Train on the samples and get the resulting accuracies.
                for images, labels in train_set:
                    train_on(images, labels)
                test_preds = model.predict(test_images, verbose=0)
                test_preds = ops.convert_to_numpy(ops.argmax(test_preds, axis=0))
                num_correct = (test_preds == test_labels).sum()
                # Reset the weights after getting the evaluation accuracies.
                model.set_weights(old_vars)
                accuracies.append(num_correct / classes)
            training.append(accuracies[0])
            testing.append(accuracies[1])
        record.history["loss"].append(float(np.mean(losses)))
        record.history["train_accuracy"].append(float(training[-1]))
        record.history["test_accuracy"].append(float(testing[-1]))

    train_set, test_images, test_labels = test_dataset.get_mini_dataset(
        eval_batch_size, eval_iters, shots, classes, split=True
    )
    for images, labels in train_set:
        train_on(images, labels)
    test_preds = model.predict(test_images, verbose=0)
    test_preds = ops.convert_to_numpy(ops.argmax(test_preds, axis=0))
    record.results["final"] = {"accuracy": [float((test_preds == test_labels).mean())]}
    return record

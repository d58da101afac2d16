"""Port of keras-io `examples/vision/semisupervised_simclr.py` (Semi-supervised image
classification using contrastive pretraining with SimCLR, András Béres, Keras 3 edition).

Changed: data (STL-10 from `tensorflow_datasets` -> seeded synthetic uint8 images
(n, 32, 32, 3) instead of (n, 96, 96, 3): 64 unlabeled, 16 labeled and 16 test images, 10
classes whose images carry a class-coloured offset), batch sizes (8 unlabeled + 2 labeled per
step, 8 for the labeled and test sets), epochs 20 -> 2, `verbose=0`, the summaries, the
augmentation plot and the training-curve plots dropped, the library passed in as `keras`. The
`tf.data` pipelines -> numpy arrays given to `fit` with `batch_size` (the labeled and test
sets) and a `PyDataset` yielding the zipped `((unlabeled, labels), (labeled, labels))` batches
(the pretraining set, its batch order shuffled by `fit`); the `RLIMIT_NOFILE` set-up dropped.
`train_step`'s two `tf.GradientTape`s -> torch autograd (each loss's gradients read with
`torch.autograd.grad` on the weights it updates, so the probe's backward does not reach the
encoder, as the tape's did not). Kept: `RandomColorAffine` (its `SeedGenerator(1337)`), the
augmenters (Rescaling, RandomFlip, RandomTranslation, RandomZoom, the colour affine), the
encoder, the baseline, `ContrastiveModel` (its `compile`, `metrics`, `contrastive_loss`,
`train_step` and `test_step` overrides, two optimizers) and the finetuning of the pretrained
encoder. Added: an evaluation of each model on the test set before it trains (kept in
`History.results`; the contrastive model's runs its `test_step`); each model (or the contrastive model's parts) is built for 32x32 images before
it trains (the original builds them on their first batch), so that `on_model` sees its
weights; the contrastive model, which has no `call()`, is then marked built (Keras 3 on
torch fails building it from its first batch otherwise). Returned: the finetuning History; `History.fits` keeps the baseline's and the pretraining's.

The pretraining is chaotic on this tiny data: float noise of 1e-7 in its first steps grows to
~3e-3 in its losses within two epochs (Keras against itself with oneDNN convolutions turned
off diverges alike), so seeded runs agree tightly only for the baseline and the first steps.
"""

import math

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the finetuning History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)

    # Dataset hyperparameters
    num_epochs = 2
    width = 128
    temperature = 0.1
    # Stronger augmentations for contrastive, weaker ones for supervised training
    contrastive_augmentation = {"min_area": 0.25, "brightness": 0.6, "jitter": 0.2}
    classification_augmentation = {"min_area": 0.75, "brightness": 0.3, "jitter": 0.1}

    offsets = rng.uniform(0, 128, (10, 1, 1, 3))

    def make(n, labeled=True):
        labels = np.arange(n) % 10
        images = rng.uniform(0, 127, (n, 32, 32, 3)) + offsets[labels]
        return images.astype("uint8"), (labels if labeled else np.full(n, -1)).astype("int64")

    unlabeled_images, unlabeled_labels = make(64, labeled=False)
    labeled_images, labeled_labels = make(16)
    test_images, test_labels = make(16)

    class ZippedDataset(keras.utils.PyDataset):
        """The unlabeled and labeled sets zipped, batch by batch (8 + 2 images)."""

        def __init__(self):
            super().__init__()

        def __len__(self):
            return 8

        def __getitem__(self, index):
            u = slice(8 * index, 8 * (index + 1))
            labeled = slice(2 * index, 2 * (index + 1))
            return (unlabeled_images[u], unlabeled_labels[u]), (labeled_images[labeled], labeled_labels[labeled])

    train_dataset = ZippedDataset()

    # Distorts the color distibutions of images
    class RandomColorAffine(layers.Layer):
        def __init__(self, brightness=0, jitter=0, **kwargs):
            super().__init__(**kwargs)

            self.seed_generator = keras.random.SeedGenerator(1337)
            self.brightness = brightness
            self.jitter = jitter

        def get_config(self):
            config = super().get_config()
            config.update({"brightness": self.brightness, "jitter": self.jitter})
            return config

        def call(self, images, training=True):
            if training:
                batch_size = ops.shape(images)[0]

                # Same for all colors
                brightness_scales = 1 + keras.random.uniform(
                    (batch_size, 1, 1, 1),
                    minval=-self.brightness,
                    maxval=self.brightness,
                    seed=self.seed_generator,
                )
                # Different for all colors
                jitter_matrices = keras.random.uniform(
                    (batch_size, 1, 3, 3),
                    minval=-self.jitter,
                    maxval=self.jitter,
                    seed=self.seed_generator,
                )

                color_transforms = (
                    ops.tile(ops.expand_dims(ops.eye(3), axis=0), (batch_size, 1, 1, 1)) * brightness_scales
                    + jitter_matrices
                )
                images = ops.clip(ops.matmul(images, color_transforms), 0, 1)
            return images

    # Image augmentation module
    def get_augmenter(min_area, brightness, jitter):
        zoom_factor = 1.0 - math.sqrt(min_area)
        return keras.Sequential(
            [
                layers.Rescaling(1 / 255),
                layers.RandomFlip("horizontal"),
                layers.RandomTranslation(zoom_factor / 2, zoom_factor / 2),
                layers.RandomZoom((-zoom_factor, 0.0), (-zoom_factor, 0.0)),
                RandomColorAffine(brightness, jitter),
            ]
        )

    # Define the encoder architecture
    def get_encoder():
        return keras.Sequential(
            [
                layers.Conv2D(width, kernel_size=3, strides=2, activation="relu"),
                layers.Conv2D(width, kernel_size=3, strides=2, activation="relu"),
                layers.Conv2D(width, kernel_size=3, strides=2, activation="relu"),
                layers.Conv2D(width, kernel_size=3, strides=2, activation="relu"),
                layers.Flatten(),
                layers.Dense(width, activation="relu"),
            ],
            name="encoder",
        )

    results = {}

    # Baseline supervised training with random initialization
    baseline_model = keras.Sequential(
        [
            get_augmenter(**classification_augmentation),
            get_encoder(),
            layers.Dense(10),
        ],
        name="baseline_model",
    )
    baseline_model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    baseline_model.build((None, 32, 32, 3))
    on_model(baseline_model)
    results["baseline_initial"] = baseline_model.evaluate(test_images, test_labels, verbose=0, return_dict=True)

    baseline_history = baseline_model.fit(
        labeled_images, labeled_labels, batch_size=8, epochs=num_epochs,
        validation_data=(test_images, test_labels), verbose=0, shuffle=shuffle,
    )
    fits = {"baseline": baseline_history.history}

    # Define the contrastive model with model-subclassing
    class ContrastiveModel(keras.Model):
        def __init__(self):
            super().__init__()

            self.temperature = temperature
            self.contrastive_augmenter = get_augmenter(**contrastive_augmentation)
            self.classification_augmenter = get_augmenter(**classification_augmentation)
            self.encoder = get_encoder()
            # Non-linear MLP as projection head
            self.projection_head = keras.Sequential(
                [
                    keras.Input(shape=(width,)),
                    layers.Dense(width, activation="relu"),
                    layers.Dense(width),
                ],
                name="projection_head",
            )
            # Single dense layer for linear probing
            self.linear_probe = keras.Sequential(
                [layers.Input(shape=(width,)), layers.Dense(10)],
                name="linear_probe",
            )

        def compile(self, contrastive_optimizer, probe_optimizer, **kwargs):
            super().compile(**kwargs)

            self.contrastive_optimizer = contrastive_optimizer
            self.probe_optimizer = probe_optimizer

            # self.contrastive_loss will be defined as a method
            self.probe_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

            self.contrastive_loss_tracker = keras.metrics.Mean(name="c_loss")
            self.contrastive_accuracy = keras.metrics.SparseCategoricalAccuracy(name="c_acc")
            self.probe_loss_tracker = keras.metrics.Mean(name="p_loss")
            self.probe_accuracy = keras.metrics.SparseCategoricalAccuracy(name="p_acc")

        @property
        def metrics(self):
            return [
                self.contrastive_loss_tracker,
                self.contrastive_accuracy,
                self.probe_loss_tracker,
                self.probe_accuracy,
            ]

        def contrastive_loss(self, projections_1, projections_2):
            # InfoNCE loss (information noise-contrastive estimation)
            # NT-Xent loss (normalized temperature-scaled cross entropy)

            # Cosine similarity: the dot product of the l2-normalized feature vectors
            projections_1 = ops.normalize(projections_1, axis=1)
            projections_2 = ops.normalize(projections_2, axis=1)
            similarities = ops.matmul(projections_1, ops.transpose(projections_2)) / self.temperature

            # The similarity between the representations of two augmented views of the
            # same image should be higher than their similarity with other views
            batch_size = ops.shape(projections_1)[0]
            contrastive_labels = ops.arange(batch_size)
            self.contrastive_accuracy.update_state(contrastive_labels, similarities)
            self.contrastive_accuracy.update_state(contrastive_labels, ops.transpose(similarities))

            # The temperature-scaled similarities are used as logits for cross-entropy
            # a symmetrized version of the loss is used here
            loss_1_2 = keras.losses.sparse_categorical_crossentropy(contrastive_labels, similarities, from_logits=True)
            loss_2_1 = keras.losses.sparse_categorical_crossentropy(
                contrastive_labels, ops.transpose(similarities), from_logits=True
            )
            return (loss_1_2 + loss_2_1) / 2

        def train_step(self, data):
            (unlabeled_images, _), (labeled_images, labels) = data

            # Both labeled and unlabeled images are used, without labels
            images = ops.concatenate((unlabeled_images, labeled_images), axis=0)
            # Each image is augmented twice, differently
            augmented_images_1 = self.contrastive_augmenter(images, training=True)
            augmented_images_2 = self.contrastive_augmenter(images, training=True)
            features_1 = self.encoder(augmented_images_1, training=True)
            features_2 = self.encoder(augmented_images_2, training=True)
            # The representations are passed through a projection mlp
            projections_1 = self.projection_head(features_1, training=True)
            projections_2 = self.projection_head(features_2, training=True)
            contrastive_loss = self.contrastive_loss(projections_1, projections_2)
            weights = self.encoder.trainable_weights + self.projection_head.trainable_weights
            # (the per-sample loss, as the tape differentiated it: the gradient of its sum)
            gradients = torch.autograd.grad(ops.sum(contrastive_loss), [w.value for w in weights])
            with torch.no_grad():
                self.contrastive_optimizer.apply_gradients(zip(gradients, weights))
            self.contrastive_loss_tracker.update_state(contrastive_loss)

            # Labels are only used in evalutation for an on-the-fly logistic regression
            preprocessed_images = self.classification_augmenter(labeled_images, training=True)
            # the encoder is used in inference mode here to avoid regularization
            # and updating the batch normalization paramers if they are used
            features = self.encoder(preprocessed_images, training=False)
            class_logits = self.linear_probe(features, training=True)
            probe_loss = self.probe_loss(labels, class_logits)
            weights = self.linear_probe.trainable_weights
            gradients = torch.autograd.grad(probe_loss, [w.value for w in weights])
            with torch.no_grad():
                self.probe_optimizer.apply_gradients(zip(gradients, weights))
            self.probe_loss_tracker.update_state(probe_loss)
            self.probe_accuracy.update_state(labels, class_logits)

            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            labeled_images, labels = data

            # For testing the components are used with a training=False flag
            preprocessed_images = self.classification_augmenter(labeled_images, training=False)
            features = self.encoder(preprocessed_images, training=False)
            class_logits = self.linear_probe(features, training=False)
            probe_loss = self.probe_loss(labels, class_logits)
            self.probe_loss_tracker.update_state(probe_loss)
            self.probe_accuracy.update_state(labels, class_logits)

            # Only the probe metrics are logged at test time
            return {m.name: m.result() for m in self.metrics[2:]}

    # Contrastive pretraining
    pretraining_model = ContrastiveModel()
    pretraining_model.compile(
        contrastive_optimizer=keras.optimizers.Adam(),
        probe_optimizer=keras.optimizers.Adam(),
    )
    for part in (pretraining_model.contrastive_augmenter, pretraining_model.classification_augmenter,
                 pretraining_model.encoder):
        part.build((None, 32, 32, 3))
    # Keras 3 on torch cannot build a model without `call()` from its first batch ("Unable
    # to automatically build the model"): its parts are built, so it is marked built.
    pretraining_model.built = True
    on_model(pretraining_model)
    results["pretraining_initial"] = pretraining_model.evaluate(test_images, test_labels, verbose=0, return_dict=True)

    pretraining_history = pretraining_model.fit(
        train_dataset, epochs=num_epochs, validation_data=(test_images, test_labels), verbose=0, shuffle=shuffle
    )
    fits["pretraining"] = pretraining_history.history

    # Supervised finetuning of the pretrained encoder
    finetuning_model = keras.Sequential(
        [
            get_augmenter(**classification_augmentation),
            pretraining_model.encoder,
            layers.Dense(10),
        ],
        name="finetuning_model",
    )
    finetuning_model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    finetuning_model.build((None, 32, 32, 3))
    on_model(finetuning_model)
    results["finetuning_initial"] = finetuning_model.evaluate(test_images, test_labels, verbose=0, return_dict=True)

    finetuning_history = finetuning_model.fit(
        labeled_images, labeled_labels, batch_size=8, epochs=num_epochs,
        validation_data=(test_images, test_labels), verbose=0, shuffle=shuffle,
    )
    finetuning_history.results = results
    finetuning_history.fits = fits
    return finetuning_history

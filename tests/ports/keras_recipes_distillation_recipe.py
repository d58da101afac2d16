"""Port of keras-io `examples/keras_recipes/distillation_recipe.py` (Sayak Paul): function
matching knowledge distillation.

Changed: data (tfds Flowers102 -> seeded synthetic float images (n, 32, 32, 3) in [0, 1] and
labels 0-101, n=16 / 8, mixed up as the example's `mixup` does with a numpy-drawn alpha), RESIZE
128 -> 32, BATCH_SIZE 64 -> 8, epochs -> 3, the teacher (a downloaded BiT SavedModel) -> a small
frozen convnet with 102 linear outputs built here (a wide normal initializer, so that its
softened predictions are far from uniform), tfa's `AdamW` -> `keras.optimizers.AdamW`
(same `weight_decay`, schedule and `clipnorm`), the library passed in as `keras`. `train_step`'s
`tf.GradientTape` -> torch autograd as keras-io's torch guide does (`zero_grad`, `backward`,
`optimizer.apply` under `torch.no_grad()`), `tf.nn.softmax` -> `keras.ops.softmax`,
`compiled_metrics.update_state` -> the metrics loop of that guide, WarmUpCosine's `tf.cos` /
`tf.cast` / `tf.where` / `tf.constant` -> `keras.ops`. Kept: the ResNet50V2 student
(`weights=None`, `classifier_activation="linear"`), the `Distiller` (its own loss tracker in a
`metrics` property, an overridden `compile` taking `distillation_loss_fn` and `temperature`,
`train_step` and `test_step`; a `call` returning the student's output added, as the Keras 3
edition of keras-io's knowledge_distillation has: Keras 3 builds a model through it), `WarmUpCosine` (a `LearningRateSchedule` subclass, its warmup
and cosine branches), KLDivergence as the distillation loss, and `fit` with `validation_data`
then `evaluate`. An evaluation before training is added (kept in `History.results`), and the
distillation loss is also logged as "loss" (the ports test reads it).
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the distiller before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    TEMPERATURE = 10  # Will be used to soften the logits before they go to softmax.
    INIT_LR = 0.003  # Initial learning rate that will be decayed over the training period.
    WEIGHT_DECAY = 0.001  # Will be used for regularization.
    CLIP_THRESHOLD = 1.0  # Will be used for clipping the gradients w.r.t their L2-norm.
    BATCH_SIZE = 8
    RESIZE = 32

    def mixup(images, labels):
        alpha = rng.uniform(0, 1)
        mixedup_images = alpha * images + (1 - alpha) * images[::-1]
        # The labels do not matter here since they are NOT used during
        # training.
        return mixedup_images.astype("float32"), labels

    x_train = rng.random((16, RESIZE, RESIZE, 3)).astype("float32")
    y_train = rng.integers(0, 102, size=(16,))
    x_val = rng.random((8, RESIZE, RESIZE, 3)).astype("float32")
    y_val = rng.integers(0, 102, size=(8,))
    x_train = np.concatenate([mixup(x_train[i : i + BATCH_SIZE], None)[0] for i in range(0, 16, BATCH_SIZE)])

    teacher_model = keras.Sequential(
        [
            keras.Input((RESIZE, RESIZE, 3)),
            layers.Conv2D(8, 3, strides=2, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(102, kernel_initializer=keras.initializers.RandomNormal(stddev=20.0)),
        ],
        name="teacher",
    )
    # Since the teacher model is not going to be trained further we make
    # it non-trainable.
    teacher_model.trainable = False

    def get_resnetv2():
        resnet_v2 = keras.applications.ResNet50V2(
            weights=None,
            input_shape=(RESIZE, RESIZE, 3),
            classes=102,
            classifier_activation="linear",
        )
        return resnet_v2

    class Distiller(keras.Model):
        def __init__(self, student, teacher):
            super().__init__()
            self.student = student
            self.teacher = teacher
            self.loss_tracker = keras.metrics.Mean(name="distillation_loss")

        @property
        def metrics(self):
            return [self.loss_tracker]

        def call(self, x):
            return self.student(x)

        def compile(self, optimizer, metrics, distillation_loss_fn, temperature=TEMPERATURE):
            super().compile(optimizer=optimizer, metrics=metrics)
            self.distillation_loss_fn = distillation_loss_fn
            self.temperature = temperature

        def train_step(self, data):
            # Unpack data
            x, _ = data

            # Forward pass of teacher
            teacher_predictions = self.teacher(x, training=False)

            self.zero_grad()
            # Forward pass of student
            student_predictions = self.student(x, training=True)

            # Compute loss
            distillation_loss = self.distillation_loss_fn(
                ops.softmax(teacher_predictions / self.temperature, axis=1),
                ops.softmax(student_predictions / self.temperature, axis=1),
            )

            # Compute gradients
            distillation_loss.backward()
            trainable_vars = self.student.trainable_variables
            gradients = [v.value.grad for v in trainable_vars]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_vars)

            # Report progress
            self.loss_tracker.update_state(distillation_loss)
            results = {m.name: m.result() for m in self.metrics}
            results.update({"distillation_loss": self.loss_tracker.result()})
            return results

        def test_step(self, data):
            # Unpack data
            x, y = data

            # Forward passes
            teacher_predictions = self.teacher(x, training=False)
            student_predictions = self.student(x, training=False)

            # Calculate the loss
            distillation_loss = self.distillation_loss_fn(
                ops.softmax(teacher_predictions / self.temperature, axis=1),
                ops.softmax(student_predictions / self.temperature, axis=1),
            )

            # Report progress
            self.loss_tracker.update_state(distillation_loss)
            results = {m.name: m.result() for m in self.metrics}
            results.update({"distillation_loss": self.loss_tracker.result()})
            return results

    class WarmUpCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, learning_rate_base, total_steps, warmup_learning_rate, warmup_steps):
            super().__init__()

            self.learning_rate_base = learning_rate_base
            self.total_steps = total_steps
            self.warmup_learning_rate = warmup_learning_rate
            self.warmup_steps = warmup_steps
            self.pi = ops.convert_to_tensor(np.pi)

        def __call__(self, step):
            if self.total_steps < self.warmup_steps:
                raise ValueError("Total_steps must be larger or equal to warmup_steps.")

            cos_annealed_lr = ops.cos(
                self.pi
                * (ops.cast(step, "float32") - self.warmup_steps)
                / float(self.total_steps - self.warmup_steps)
            )
            learning_rate = 0.5 * self.learning_rate_base * (1 + cos_annealed_lr)

            if self.warmup_steps > 0:
                if self.learning_rate_base < self.warmup_learning_rate:
                    raise ValueError(
                        "Learning_rate_base must be larger or equal to "
                        "warmup_learning_rate."
                    )
                slope = (self.learning_rate_base - self.warmup_learning_rate) / self.warmup_steps
                warmup_rate = slope * ops.cast(step, "float32") + self.warmup_learning_rate
                learning_rate = ops.where(step < self.warmup_steps, warmup_rate, learning_rate)
            return ops.where(step > self.total_steps, 0.0, learning_rate)

    TOTAL_STEPS = 8
    scheduled_lrs = WarmUpCosine(
        learning_rate_base=INIT_LR,
        total_steps=TOTAL_STEPS,
        warmup_learning_rate=0.0,
        warmup_steps=2,
    )
    lrs = [float(scheduled_lrs(step)) for step in range(TOTAL_STEPS + 2)]
    np.testing.assert_allclose(lrs[:3], [0.0, INIT_LR / 2, INIT_LR], rtol=1e-6)
    assert lrs[-1] == 0.0

    optimizer = keras.optimizers.AdamW(
        weight_decay=WEIGHT_DECAY, learning_rate=scheduled_lrs, clipnorm=CLIP_THRESHOLD
    )

    student_model = get_resnetv2()

    distiller = Distiller(student=student_model, teacher=teacher_model)
    distiller.compile(
        optimizer,
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        distillation_loss_fn=keras.losses.KLDivergence(),
        temperature=TEMPERATURE,
    )
    on_model(distiller)
    initial = distiller.evaluate(x_val, y_val, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
    history = distiller.fit(
        x_train,
        y_train,
        batch_size=BATCH_SIZE,
        validation_data=(x_val, y_val),
        epochs=3,
        verbose=0,
        shuffle=shuffle,
    )
    history.history["loss"] = history.history["distillation_loss"]
    distiller.evaluate(x_val, y_val, batch_size=BATCH_SIZE, verbose=0)
    history.results = {"initial": initial}
    return history

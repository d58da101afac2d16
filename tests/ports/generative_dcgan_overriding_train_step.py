"""Port of keras-io `examples/generative/dcgan_overriding_train_step.py` (DCGAN to generate face
images, fchollet, Keras 3 edition).

Changed: data (CelebA downloaded with gdown and read by `image_dataset_from_directory(...,
image_size=(64, 64), batch_size=32)` then `/ 255` -> seeded synthetic float32 images
(24, 64, 64, 3) in [0, 1], batched by `fit(batch_size=8)`), the layers' filters 64/128/128 ->
8/16/16 (discriminator) and 128/256/512 -> 16/16/32 (generator) and latent_dim 128 -> 32 (CPU
test time), `GANMonitor(num_img=10)` -> 2, epochs 1 -> 3, `verbose=0`, the sample plot dropped,
the library passed in as `keras`. `train_step`'s `tf.GradientTape` / `apply_gradients` -> torch
autograd and `optimizer.apply` as keras-io's torch guide does, `tf.random.uniform` ->
`keras.random.uniform` from the model's `SeedGenerator` (as the other draws), the noisy labels
clipped to [0, 1] (Keras 3 on torch computes BinaryCrossentropy with torch's
`binary_cross_entropy`, which raises for the targets above 1 the noise makes), Keras 3 hands a
step the batch `(x,)` of x-only data (unpacked as the Keras 3 example does); `GANMonitor`'s
`.numpy()` -> `keras.ops.convert_to_numpy` (the generator's output requires grad on torch) and
its PNGs go to a temporary folder (their pixel means kept in `History.results`);
`self.built = True` in `GAN.__init__` as the torch guide's GAN has it (Keras 3 on torch cannot
build a model without `call` from data). Kept: the two
Sequentials (strided Conv2D, LeakyReLU, Flatten, Dropout, sigmoid Dense; Dense, Reshape,
Conv2DTranspose, sigmoid Conv2D), `GAN` (a `compile(d_optimizer, g_optimizer, loss_fn)`
override creating the `Mean` trackers listed in `metrics`, `SeedGenerator` noise, label noise),
Adam 1e-4 for both, BinaryCrossentropy on probabilities, fit with the callback. Added: History's
"loss" is a copy of "d_loss" (the ports tests read "loss"; the discriminator's falls).
"""

import os
import tempfile

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the GAN (its two models built) before it trains; `shuffle`
    goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    dataset = rng.random((24, 64, 64, 3)).astype("float32")

    discriminator = keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )

    latent_dim = 32

    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(8 * 8 * 16),
            layers.Reshape((8, 8, 16)),
            layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(32, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.built = True

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn
            self.d_loss_metric = keras.metrics.Mean(name="d_loss")
            self.g_loss_metric = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_loss_metric, self.g_loss_metric]

        def train_step(self, real_images):
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            # Sample random points in the latent space
            batch_size = ops.shape(real_images)[0]
            random_latent_vectors = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)

            # Decode them to fake images
            generated_images = self.generator(random_latent_vectors)

            # Combine them with real images
            combined_images = ops.concatenate([generated_images, real_images], axis=0)

            # Assemble labels discriminating real from fake images
            labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
            # Add random noise to the labels - important trick!
            labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
            labels = ops.clip(labels, 0.0, 1.0)

            # Train the discriminator
            self.zero_grad()
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            # Sample random points in the latent space
            random_latent_vectors = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)

            # Assemble labels that say "all real images"
            misleading_labels = ops.zeros((batch_size, 1))

            # Train the generator (note that we should *not* update the weights
            # of the discriminator)!
            self.zero_grad()
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
            g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)

            # Update metrics
            self.d_loss_metric.update_state(d_loss)
            self.g_loss_metric.update_state(g_loss)
            return {
                "d_loss": self.d_loss_metric.result(),
                "g_loss": self.g_loss_metric.result(),
            }

    saved = []
    folder = tempfile.mkdtemp()

    class GANMonitor(keras.callbacks.Callback):
        def __init__(self, num_img=3, latent_dim=128):
            self.num_img = num_img
            self.latent_dim = latent_dim
            self.seed_generator = keras.random.SeedGenerator(42)

        def on_epoch_end(self, epoch, logs=None):
            random_latent_vectors = keras.random.normal(shape=(self.num_img, self.latent_dim), seed=self.seed_generator)
            generated_images = self.model.generator(random_latent_vectors)
            generated_images *= 255
            generated_images = ops.convert_to_numpy(generated_images)
            for i in range(self.num_img):
                img = keras.utils.array_to_img(generated_images[i])
                path = os.path.join(folder, "generated_img_%03d_%d.png" % (epoch, i))
                img.save(path)
                saved.append(float(np.asarray(keras.utils.load_img(path)).mean()))

    epochs = 3

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0001),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0001),
        loss_fn=keras.losses.BinaryCrossentropy(),
    )
    on_model(gan)

    history = gan.fit(
        dataset,
        batch_size=8,
        epochs=epochs,
        callbacks=[GANMonitor(num_img=2, latent_dim=latent_dim)],
        verbose=0,
        shuffle=shuffle,
    )
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
    assert sorted(history.history) == ["d_loss", "g_loss"], sorted(history.history)
    history.history["loss"] = history.history["d_loss"]  # the ports test reads "loss"
    history.results = {"monitor": {"pixel_means": saved}}
    return history

"""Port of keras-io `guides/custom_train_step_in_torch.py` (fchollet), its end-to-end GAN section.

Changed: data (`keras.datasets.mnist.load_data` -> synthetic float images (64, 28, 28, 1) in
[0, 1], seeded), `latent_dim` 128 -> 16 and the generator's 128-channel layers -> 32 (CPU test
time), epochs 1 -> 2, `verbose=0`, the library passed in as `keras`. The GAN class (custom
`compile` with two optimizers, `train_step` alternating discriminator and generator updates
with torch autograd, `SeedGenerator` noise, metric trackers) and the `torch.utils.data`
DataLoader input are the guide's, except `isinstance(real_images, tuple)` -> `(tuple, list)`:
on Keras 3.15.1 a DataLoader's batch reaches `train_step` as the list it yields, so the guide
as written fails there with `'list' object has no attribute 'shape'`.
"""

import numpy as np
import torch


def run(keras):
    """Runs the guide's GAN with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers

    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )

    latent_dim = 16
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(7 * 7 * 32),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, 32)),
            layers.Conv2DTranspose(32, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(32, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            device = "cuda" if torch.cuda.is_available() else "cpu"
            if isinstance(real_images, (tuple, list)):
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator
            )
            generated_images = self.generator(random_latent_vectors)
            real_images = torch.tensor(real_images, device=device)
            combined_images = torch.concat([generated_images, real_images], axis=0)
            labels = torch.concat(
                [
                    torch.ones((batch_size, 1), device=device),
                    torch.zeros((batch_size, 1), device=device),
                ],
                axis=0,
            )
            labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)

            self.zero_grad()
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator
            )
            misleading_labels = torch.zeros((batch_size, 1), device=device)

            self.zero_grad()
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
            grads = g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)

            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {
                "d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result(),
            }

    batch_size = 32
    rng = np.random.default_rng(0)
    all_digits = rng.random((64, 28, 28)).astype("float32")
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(all_digits), torch.from_numpy(all_digits))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    history = gan.fit(dataloader, epochs=2, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"], sorted(history.history)
    # No "loss" key: the ports test reads the discriminator's loss.
    history.history["loss"] = history.history["d_loss"]
    return history

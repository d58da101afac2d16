"""Port of keras-io `examples/generative/vq_vae.py` (Vector-Quantized Variational
Autoencoders, Sayak Paul), its VQ-VAE part.

Changed: data (`keras.datasets.mnist` -> synthetic uint8 images (64, 28, 28), seeded, scaled
and their variance taken as the example does), encoder/decoder widths 32/64 -> 8/16,
latent_dim 16 -> 4, num_embeddings 128 -> 16, batch_size 128 -> 16, epochs 30 -> 2, `verbose=0`,
`summary()`, the plots and the PixelCNN prior section dropped, the library passed in as `keras`.
TensorFlow calls -> their Keras 3 equivalents: the codebook `tf.Variable` with
`tf.random_uniform_initializer()` -> `self.add_weight(..., initializer=RandomUniform(-0.05,
0.05))` (the same distribution), `tf.*` -> `keras.ops.*` (`reshape`, `one_hot`, `matmul` with
`transpose`, `stop_gradient`, `argmin`, `mean`, `sum`), and the trainer's `tf.GradientTape` ->
torch autograd as keras-io's torch guide does (`self.built = True` in `__init__`, as that guide's
GAN has it: a model without `call` cannot be built from data on torch). The `VectorQuantizer`
layer (codebook, `add_loss` of the commitment and codebook losses, straight-through estimator),
encoder, decoder, `VQVAETrainer` (its own `Mean` trackers and `metrics` property, the losses of
the nested layer summed from `self.vqvae.losses`) and the code-index lookup at the end are the
example's. Added: the reconstruction and the VQ loss of fixed images from the initial weights,
kept in `History.results` for the parity test.
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the trainer before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    class VectorQuantizer(layers.Layer):
        def __init__(self, num_embeddings, embedding_dim, beta=0.25, **kwargs):
            super().__init__(**kwargs)
            self.embedding_dim = embedding_dim
            self.num_embeddings = num_embeddings

            # The `beta` parameter is best kept between [0.25, 2] as per the paper.
            self.beta = beta

            # Initialize the embeddings which we will quantize.
            w_init = keras.initializers.RandomUniform(-0.05, 0.05)
            self.embeddings = self.add_weight(
                shape=(self.embedding_dim, self.num_embeddings),
                initializer=w_init,
                trainable=True,
                name="embeddings_vqvae",
            )

        def call(self, x):
            # Calculate the input shape of the inputs and
            # then flatten the inputs keeping `embedding_dim` intact.
            input_shape = ops.shape(x)
            flattened = ops.reshape(x, [-1, self.embedding_dim])

            # Quantization.
            encoding_indices = self.get_code_indices(flattened)
            encodings = ops.one_hot(encoding_indices, self.num_embeddings)
            quantized = ops.matmul(encodings, ops.transpose(self.embeddings))

            # Reshape the quantized values back to the original input shape
            quantized = ops.reshape(quantized, input_shape)

            # Calculate vector quantization loss and add that to the layer.
            commitment_loss = self.beta * ops.mean((ops.stop_gradient(quantized) - x) ** 2)
            codebook_loss = ops.mean((quantized - ops.stop_gradient(x)) ** 2)
            self.add_loss(commitment_loss + codebook_loss)

            # Straight-through estimator.
            quantized = x + ops.stop_gradient(quantized - x)
            return quantized

        def get_code_indices(self, flattened_inputs):
            # Calculate L2-normalized distance between the inputs and the codes.
            similarity = ops.matmul(flattened_inputs, self.embeddings)
            distances = (
                ops.sum(flattened_inputs**2, axis=1, keepdims=True)
                + ops.sum(self.embeddings**2, axis=0)
                - 2 * similarity
            )

            # Derive the indices for minimum distances.
            encoding_indices = ops.argmin(distances, axis=1)
            return encoding_indices

    def get_encoder(latent_dim=16):
        encoder_inputs = keras.Input(shape=(28, 28, 1))
        x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
        x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(x)
        encoder_outputs = layers.Conv2D(latent_dim, 1, padding="same")(x)
        return keras.Model(encoder_inputs, encoder_outputs, name="encoder")

    def get_decoder(latent_dim=16):
        latent_inputs = keras.Input(shape=get_encoder(latent_dim).output.shape[1:])
        x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(latent_inputs)
        x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
        decoder_outputs = layers.Conv2DTranspose(1, 3, padding="same")(x)
        return keras.Model(latent_inputs, decoder_outputs, name="decoder")

    def get_vqvae(latent_dim=16, num_embeddings=64):
        vq_layer = VectorQuantizer(num_embeddings, latent_dim, name="vector_quantizer")
        encoder = get_encoder(latent_dim)
        decoder = get_decoder(latent_dim)
        inputs = keras.Input(shape=(28, 28, 1))
        encoder_outputs = encoder(inputs)
        quantized_latents = vq_layer(encoder_outputs)
        reconstructions = decoder(quantized_latents)
        return keras.Model(inputs, reconstructions, name="vq_vae")

    class VQVAETrainer(keras.models.Model):
        def __init__(self, train_variance, latent_dim=32, num_embeddings=128, **kwargs):
            super().__init__(**kwargs)
            self.train_variance = train_variance
            self.latent_dim = latent_dim
            self.num_embeddings = num_embeddings

            self.vqvae = get_vqvae(self.latent_dim, self.num_embeddings)

            self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
            self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.vq_loss_tracker = keras.metrics.Mean(name="vq_loss")
            self.built = True

        @property
        def metrics(self):
            return [
                self.total_loss_tracker,
                self.reconstruction_loss_tracker,
                self.vq_loss_tracker,
            ]

        def train_step(self, x):
            self.zero_grad()
            # Outputs from the VQ-VAE.
            reconstructions = self.vqvae(x)

            # Calculate the losses.
            reconstruction_loss = ops.mean((x - reconstructions) ** 2) / self.train_variance
            total_loss = reconstruction_loss + sum(self.vqvae.losses)

            # Backpropagation.
            total_loss.backward()
            trainable_weights = self.vqvae.trainable_weights
            grads = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(grads, trainable_weights)

            # Loss tracking.
            self.total_loss_tracker.update_state(total_loss)
            self.reconstruction_loss_tracker.update_state(reconstruction_loss)
            self.vq_loss_tracker.update_state(sum(self.vqvae.losses))

            # Log results.
            return {
                "loss": self.total_loss_tracker.result(),
                "reconstruction_loss": self.reconstruction_loss_tracker.result(),
                "vqvae_loss": self.vq_loss_tracker.result(),
            }

    x_train = rng.integers(0, 256, size=(64, 28, 28)).astype("uint8")
    x_test = rng.integers(0, 256, size=(8, 28, 28)).astype("uint8")
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    x_train_scaled = (x_train / 255.0) - 0.5
    x_test_scaled = (x_test / 255.0) - 0.5

    data_variance = np.var(x_train / 255.0)

    vqvae_trainer = VQVAETrainer(data_variance, latent_dim=4, num_embeddings=16)
    vqvae_trainer.compile(optimizer=keras.optimizers.Adam())
    results = {}
    if on_model:
        on_model(vqvae_trainer)
        recon = vqvae_trainer.vqvae(ops.convert_to_tensor(x_test_scaled.astype("float32")))
        results["initial"] = {"reconstruction": ops.convert_to_numpy(recon).ravel()[::97].tolist(),
                              "vq_loss": [float(sum(vqvae_trainer.vqvae.losses).detach())]}
    history = vqvae_trainer.fit(x_train_scaled, epochs=2, batch_size=16, verbose=0, shuffle=shuffle)
    assert sorted(history.history) == ["loss", "reconstruction_loss", "vqvae_loss"], sorted(history.history)

    trained_vqvae_model = vqvae_trainer.vqvae
    reconstructions_test = trained_vqvae_model.predict(x_test_scaled, verbose=0)
    assert reconstructions_test.shape == (8, 28, 28, 1), reconstructions_test.shape

    encoder = vqvae_trainer.vqvae.get_layer("encoder")
    quantizer = vqvae_trainer.vqvae.get_layer("vector_quantizer")

    encoded_outputs = encoder.predict(x_test_scaled, verbose=0)
    flat_enc_outputs = encoded_outputs.reshape(-1, encoded_outputs.shape[-1])
    codebook_indices = quantizer.get_code_indices(flat_enc_outputs)
    codebook_indices = ops.convert_to_numpy(codebook_indices).reshape(encoded_outputs.shape[:-1])
    assert codebook_indices.shape == (8, 7, 7), codebook_indices.shape
    results["codes"] = {"indices": codebook_indices.ravel().tolist()}
    history.results = results
    return history

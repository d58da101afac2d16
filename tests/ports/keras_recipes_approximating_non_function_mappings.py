"""Port of keras-io `examples/keras_recipes/approximating_non_function_mappings.py`
(Approximating non-Function Mappings with Mixture Density Networks, lukewood).

Changed: `keras_core` -> the library passed in as `keras`; the loss's TensorFlow Probability
mixture (`tfd.Mixture` of `MultivariateNormalDiag`s with a `Categorical`) and `tf.reshape` /
`tf.split` -> the same log-likelihood written with `keras.ops` (log-softmax of the mixture
logits plus each component's diagonal-normal log-density, `logsumexp` over components); the
spirals drawn with a seeded `random.Random(0)` and the sampling with a seeded
`np.random.RandomState(0)` (the example uses the global generators); sizes (10 spirals of 1000
points -> 2 of 100, N_HIDDEN 128 -> 16, N_MIXES 20 -> 5), epochs 300 -> 4, batch_size 128 ->
32, `verbose=0`, plots dropped. The MSE model, `MixtureDensityOutput` (Dense sublayers built in
`build`, `trainable_weights` / `non_trainable_weights` overridden as properties, a custom
activation function), the MDN Sequential, EarlyStopping(restore_best_weights) and
ReduceLROnPlateau, `validation_split`, `predict` and the sampling code are the example's.
Returned: the MDN's History; the MSE model's in `History.results`.
"""

import math
import random as random_module

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the MDN's History.

    `on_model(model)` is called on each model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    callbacks = keras.callbacks
    ops = keras.ops
    random = random_module.Random(0)
    np_random = np.random.RandomState(0)
    on_model = on_model or (lambda model: None)

    def normalize(x):
        return (x - np.min(x)) / (np.max(x) - np.min(x))

    def create_noisy_spiral(n, max_jitter=0.2, size_range=[5, 10]):
        R_X = random.choice(range(size_range[0], size_range[1], 10))
        R_Y = random.choice(range(size_range[0], size_range[1], 10))
        X_0 = random.random() * 100 - 50
        Y_0 = random.random() * 100 - 50

        randomized_jitter = lambda: random.uniform(-max_jitter / 2, max_jitter / 2)  # noqa: E731
        x = lambda _t: _t / 360.0 * math.cos(_t / 90.0 * math.pi) * R_X + X_0  # noqa: E731
        y = lambda _t: _t / 360.0 * math.sin(_t / 90.0 * math.pi) * R_Y + Y_0  # noqa: E731

        out = np.zeros([n, 2])

        for i in range(n):
            t = 360.0 / n * i
            out[i, 0] = x(t) + randomized_jitter()
            out[i, 1] = y(t) + randomized_jitter()
        out = out.astype("float32")
        return (normalize(out[:, 0]) * 10) - 5, (normalize(out[:, 1]) * 10) - 5

    xs = []
    ys = []
    for _ in range(2):
        x, y = create_noisy_spiral(100)
        xs.append(x)
        ys.append(y)
    x = np.concatenate(xs, axis=0)
    y = np.concatenate(ys, axis=0)
    x = np.expand_dims(x, axis=1)

    N_HIDDEN = 16

    model = keras.Sequential(
        [
            layers.Dense(N_HIDDEN, activation="relu"),
            layers.Dense(N_HIDDEN, activation="relu"),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.build((None, 1))  # (not in the example: lets the parity test copy initial weights)
    on_model(model)
    mse_history = model.fit(
        x,
        y,
        epochs=4,
        batch_size=32,
        validation_split=0.15,
        callbacks=[callbacks.EarlyStopping(monitor="val_loss", patience=5)],
        verbose=0,
        shuffle=shuffle,
    )
    y_pred = model.predict(x, verbose=0)
    assert y_pred.shape == (200, 1)

    def elu_plus_one_plus_epsilon(x):
        return keras.activations.elu(x) + 1 + keras.backend.epsilon()

    class MixtureDensityOutput(layers.Layer):
        def __init__(self, output_dimension, num_mixtures, **kwargs):
            super().__init__(**kwargs)
            self.output_dim = output_dimension
            self.num_mix = num_mixtures
            self.mdn_mus = layers.Dense(self.num_mix * self.output_dim, name="mdn_mus")  # mix*output vals, no activation
            self.mdn_sigmas = layers.Dense(
                self.num_mix * self.output_dim,
                activation=elu_plus_one_plus_epsilon,
                name="mdn_sigmas",
            )  # mix*output vals exp activation
            self.mdn_pi = layers.Dense(self.num_mix, name="mdn_pi")  # mix vals, logits

        def build(self, input_shape):
            self.mdn_mus.build(input_shape)
            self.mdn_sigmas.build(input_shape)
            self.mdn_pi.build(input_shape)
            super().build(input_shape)

        @property
        def trainable_weights(self):
            return self.mdn_mus.trainable_weights + self.mdn_sigmas.trainable_weights + self.mdn_pi.trainable_weights

        @property
        def non_trainable_weights(self):
            return (
                self.mdn_mus.non_trainable_weights
                + self.mdn_sigmas.non_trainable_weights
                + self.mdn_pi.non_trainable_weights
            )

        def call(self, x, mask=None):
            return layers.concatenate([self.mdn_mus(x), self.mdn_sigmas(x), self.mdn_pi(x)], name="mdn_outputs")

    OUTPUT_DIMS = 1
    N_MIXES = 5

    mdn_network = keras.Sequential(
        [
            layers.Dense(N_HIDDEN, activation="relu"),
            layers.Dense(N_HIDDEN, activation="relu"),
            MixtureDensityOutput(OUTPUT_DIMS, N_MIXES),
        ]
    )

    def get_mixture_loss_func(output_dim, num_mixes):
        def mdn_loss_func(y_true, y_pred):
            # Reshape inputs in case this is used in a TimeDistribued layer
            y_pred = ops.reshape(y_pred, [-1, (2 * num_mixes * output_dim) + num_mixes])
            y_true = ops.reshape(y_true, [-1, output_dim])
            # Split the inputs into paramaters
            out_mu, out_sigma, out_pi = ops.split(
                y_pred, [num_mixes * output_dim, 2 * num_mixes * output_dim], axis=-1
            )
            # The mixture's log-density: the components are diagonal normals.
            mus = ops.reshape(out_mu, [-1, num_mixes, output_dim])
            sigs = ops.reshape(out_sigma, [-1, num_mixes, output_dim])
            z = (ops.expand_dims(y_true, 1) - mus) / sigs
            log_normal = ops.sum(-0.5 * ops.square(z) - ops.log(sigs) - 0.5 * math.log(2 * math.pi), axis=-1)
            log_mix = ops.log_softmax(out_pi, axis=-1)
            loss = ops.logsumexp(log_mix + log_normal, axis=-1)
            loss = ops.negative(loss)
            loss = ops.mean(loss)
            return loss

        return mdn_loss_func

    mdn_network.compile(loss=get_mixture_loss_func(OUTPUT_DIMS, N_MIXES), optimizer="adam")
    mdn_network.build((None, 1))  # (not in the example: lets the parity test copy initial weights)
    assert len(mdn_network.trainable_weights) == 10
    on_model(mdn_network)
    history = mdn_network.fit(
        x,
        y,
        epochs=4,
        batch_size=32,
        validation_split=0.15,
        callbacks=[
            callbacks.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True),
            callbacks.ReduceLROnPlateau(monitor="loss", patience=5),
        ],
        verbose=0,
        shuffle=shuffle,
    )

    y_pred_mixture = mdn_network.predict(x, verbose=0)
    assert y_pred_mixture.shape == (200, 2 * N_MIXES * OUTPUT_DIMS + N_MIXES)

    def split_mixture_params(params, output_dim, num_mixes):
        mus = params[: num_mixes * output_dim]
        sigs = params[num_mixes * output_dim : 2 * num_mixes * output_dim]
        pi_logits = params[-num_mixes:]
        return mus, sigs, pi_logits

    def softmax(w, t=1.0):
        e = np.array(w) / t  # adjust temperature
        e -= e.max()  # subtract max to protect from exploding exp values.
        e = np.exp(e)
        dist = e / np.sum(e)
        return dist

    def sample_from_categorical(dist):
        r = np_random.rand(1)  # uniform random number in [0,1]
        accumulate = 0
        for i in range(0, dist.size):
            accumulate += dist[i]
            if accumulate >= r:
                return i
        return -1

    def sample_from_output(params, output_dim, num_mixes, temp=1.0, sigma_temp=1.0):
        mus, sigs, pi_logits = split_mixture_params(params, output_dim, num_mixes)
        pis = softmax(pi_logits, t=temp)
        m = sample_from_categorical(pis)
        mus_vector = mus[m * output_dim : (m + 1) * output_dim]
        sig_vector = sigs[m * output_dim : (m + 1) * output_dim]
        scale_matrix = np.identity(output_dim) * sig_vector  # scale matrix from diag
        cov_matrix = np.matmul(scale_matrix, scale_matrix.T)  # cov is scale squared.
        cov_matrix = cov_matrix * sigma_temp  # adjust for sigma temperature
        sample = np_random.multivariate_normal(mus_vector, cov_matrix, 1)
        return sample

    y_samples = np.apply_along_axis(sample_from_output, 1, y_pred_mixture, 1, N_MIXES, temp=1.0)
    assert y_samples.shape == (200, 1, 1) and np.all(np.isfinite(y_samples))
    history.results = {"mse_model": mse_history.history}
    return history

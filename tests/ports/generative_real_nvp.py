"""Port of keras-io `examples/generative/real_nvp.py` (Density estimation using Real NVP,
Mandolini, Sanna and Zannini Quirini).

Changed: data (`sklearn.datasets.make_moons(3000, noise=0.05)` -> the same two interleaved
half circles with Gaussian noise 0.05 drawn from a seeded numpy generator, 3000 -> 240 points),
batch_size 256 -> 32, epochs 300 -> 3, `verbose=2` -> 0, the plots dropped (the latent and
generated points' means and spreads are kept in `History.results`), the library passed in as
`keras`. TensorFlow calls -> `keras.ops` (`tf.exp` -> `ops.exp`, `tf.reduce_sum` / `tf.reduce_mean`
-> `ops.sum` / `ops.mean`); `tfp.distributions.MultivariateNormalDiag(loc=[0, 0],
scale_diag=[1, 1])` -> a small class with the same `log_prob` (the standard normal's log
density, written with `ops`) and `sample(n)` (from the seeded numpy generator);
`train_step`'s `tf.GradientTape` -> torch autograd as keras-io's torch guide does; Keras 3
hands a step the batch `(x,)` of x-only data, so the steps unpack it as Keras 3's DCGAN example
does; the numpy masks are converted with `ops.convert_to_tensor` where `call` uses them and `s *= mask` /
`t *= mask` -> `s = s * mask` / `t = t * mask` (a torch tensor is changed in place, which
autograd refuses for the tanh output it keeps). Kept: Normalization adapted to the data, `Coupling` (a two-output Functional of
L2-regularized Dense layers), `RealNVP` (a subclassed Model whose `call(x, training=True)`
defaults to the data-to-latent direction, a `loss_tracker` listed in `metrics`, numpy masks),
compile with Adam, fit with `validation_split=0.2`, the model called on the data (training by
default) and `predict` on latent samples (returning the pair). Added: an evaluation from the
initial weights (kept in `History.results`).
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    regularizers = keras.regularizers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    def make_moons(n_samples, noise):
        n_out = n_samples // 2
        n_in = n_samples - n_out
        outer = np.stack([np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))], 1)
        inner = np.stack([1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5], 1)
        points = np.concatenate([outer, inner])[rng.permutation(n_samples)]
        return (points + rng.normal(scale=noise, size=points.shape),)

    data = make_moons(240, noise=0.05)[0].astype("float32")
    norm = layers.Normalization()
    norm.adapt(data)
    normalized_data = norm(data)

    # Creating a custom layer with keras API.
    output_dim = 256
    reg = 0.01

    def Coupling(input_shape):
        input = keras.layers.Input(shape=(input_shape,))

        t_layer_1 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(input)
        t_layer_2 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(t_layer_1)
        t_layer_3 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(t_layer_2)
        t_layer_4 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(t_layer_3)
        t_layer_5 = keras.layers.Dense(input_shape, activation="linear", kernel_regularizer=regularizers.l2(reg))(t_layer_4)

        s_layer_1 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(input)
        s_layer_2 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(s_layer_1)
        s_layer_3 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(s_layer_2)
        s_layer_4 = keras.layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(s_layer_3)
        s_layer_5 = keras.layers.Dense(input_shape, activation="tanh", kernel_regularizer=regularizers.l2(reg))(s_layer_4)

        return keras.Model(inputs=input, outputs=[s_layer_5, t_layer_5])

    class MultivariateNormalDiag:
        """The standard 2-D normal of `tfp.distributions.MultivariateNormalDiag(loc=[0, 0],
        scale_diag=[1, 1])`: `log_prob` and `sample`."""

        def log_prob(self, y):
            return -0.5 * ops.sum(ops.square(y), axis=-1) - np.log(2 * np.pi)

        def sample(self, n):
            return rng.normal(size=(n, 2)).astype("float32")

    class RealNVP(keras.Model):
        def __init__(self, num_coupling_layers):
            super().__init__()

            self.num_coupling_layers = num_coupling_layers

            # Distribution of the latent space.
            self.distribution = MultivariateNormalDiag()
            self.masks = np.array([[0, 1], [1, 0]] * (num_coupling_layers // 2), dtype="float32")
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.layers_list = [Coupling(2) for i in range(num_coupling_layers)]

        @property
        def metrics(self):
            """List of the model's metrics."""
            return [self.loss_tracker]

        def call(self, x, training=True):
            log_det_inv = 0
            direction = 1
            if training:
                direction = -1
            for i in range(self.num_coupling_layers)[::direction]:
                mask = ops.convert_to_tensor(self.masks[i])
                x_masked = x * mask
                reversed_mask = 1 - mask
                s, t = self.layers_list[i](x_masked)
                s = s * reversed_mask
                t = t * reversed_mask
                gate = (direction - 1) / 2
                x = reversed_mask * (x * ops.exp(direction * s) + direction * t * ops.exp(gate * s)) + x_masked
                log_det_inv += gate * ops.sum(s, [1])

            return x, log_det_inv

        # Log likelihood of the normal distribution plus the log determinant of the jacobian.

        def log_loss(self, x):
            y, logdet = self(x)
            log_likelihood = self.distribution.log_prob(y) + logdet
            return -ops.mean(log_likelihood)

        def train_step(self, data):
            if isinstance(data, tuple):
                data = data[0]
            self.zero_grad()
            loss = self.log_loss(data)

            loss.backward()
            trainable_variables = self.trainable_variables
            g = [v.value.grad for v in trainable_variables]
            with torch.no_grad():
                self.optimizer.apply(g, trainable_variables)
            self.loss_tracker.update_state(loss)

            return {"loss": self.loss_tracker.result()}

        def test_step(self, data):
            if isinstance(data, tuple):
                data = data[0]
            loss = self.log_loss(data)
            self.loss_tracker.update_state(loss)

            return {"loss": self.loss_tracker.result()}

    model = RealNVP(num_coupling_layers=6)

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0001))
    model(normalized_data[:1])  # built before the initial weights are recorded (the parity test)
    on_model(model)
    results["initial"] = model.evaluate(normalized_data, batch_size=32, verbose=0, return_dict=True)

    history = model.fit(normalized_data, batch_size=32, epochs=3, verbose=0, validation_split=0.2, shuffle=shuffle)

    # From data to latent space.
    z, _ = model(normalized_data)

    # From latent space to data.
    samples = model.distribution.sample(240)
    x, _ = model.predict(samples, verbose=0)
    z, x = ops.convert_to_numpy(z), np.asarray(x)
    results["spaces"] = {"z_mean": z.mean(0).tolist(), "z_std": z.std(0).tolist(),
                         "x_mean": x.mean(0).tolist(), "x_std": x.std(0).tolist()}
    history.results = results
    return history

"""Port of keras-io `examples/rl/actor_critic_cartpole.py` (Actor Critic Method, Apoorv Nandan).

Changed: the environment (`gym.make("CartPole-v0")` -> `_CartPole`, a small deterministic NumPy
cart-pole written here with gym's equations, thresholds and reward, its start state drawn from
a seeded generator), `max_steps_per_episode` 10000 -> 40, the "run until solved" loop -> 6
episodes, `np.random.choice` -> the same call on a seeded `np.random.default_rng(seed)`, prints
-> recorded numbers, the library passed in as `keras`. `tf.GradientTape` -> torch autograd, as
keras-io's torch guides do: the episode's loss `.backward()`, the gradients read from
`v.value.grad` and applied with `optimizer.apply` under `torch.no_grad()`, then cleared;
`tf.convert_to_tensor` / `tf.expand_dims` / `tf.math.log` -> `keras.ops`, `np.squeeze` of the
probabilities -> of `ops.convert_to_numpy(...)`. Kept: the shared-trunk actor-critic model (one
Dense(128, relu), a softmax actor head and a critic head), Adam(0.01), `keras.losses.Huber()`
called per step on the critic value and the normalized discounted return, the actor loss
`-log_prob * (ret - value)`, the running reward. Returned: a History-like record whose "loss" is
each episode's loss and "reward" its reward; `History.results` keeps the initial
probabilities and values of a fixed batch of states (the parity test compares them).
"""

import math

import numpy as np
import torch


class _CartPole:
    """CartPole-v0's dynamics (Euler steps of 0.02 s, force 10 N), deterministic given its seed."""

    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_threshold, x_threshold = 12 * 2 * math.pi / 360, 2.4

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.state = None

    def reset(self):
        self.state = self.rng.uniform(-0.05, 0.05, size=(4,))
        return self.state.astype("float32")

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass = self.masspole + self.masscart
        polemass_length = self.masspole * self.length
        costheta, sintheta = math.cos(theta), math.sin(theta)
        temp = (force + polemass_length * theta_dot**2 * sintheta) / total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * costheta**2 / total_mass)
        )
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * xacc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * thetaacc
        self.state = np.array([x, x_dot, theta, theta_dot])
        done = bool(abs(x) > self.x_threshold or abs(theta) > self.theta_threshold)
        return self.state.astype("float32"), 1.0, done, {}


class _Record:
    """What the example prints, kept per episode like a Keras History."""

    def __init__(self):
        self.history = {"loss": [], "reward": []}
        self.results = {}


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns a History-like record.

    `on_model(model)` is called on the model before it trains; `shuffle` is not used (the
    example has no batches to shuffle).
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    record = _Record()

    # Configuration parameters for the whole setup
    seed = 42
    gamma = 0.99  # Discount factor for past rewards
    max_steps_per_episode = 40
    env = _CartPole(seed)  # Create the environment
    action_rng = np.random.default_rng(seed)
    eps = np.finfo(np.float32).eps.item()  # Smallest number such that 1.0 + eps != 1.0

    num_inputs = 4
    num_actions = 2
    num_hidden = 128

    inputs = layers.Input(shape=(num_inputs,))
    common = layers.Dense(num_hidden, activation="relu")(inputs)
    action = layers.Dense(num_actions, activation="softmax")(common)
    critic = layers.Dense(1)(common)

    model = keras.Model(inputs=inputs, outputs=[action, critic])
    on_model(model)
    probe = np.linspace(-0.1, 0.1, 5 * num_inputs, dtype="float32").reshape(5, num_inputs)
    probs, values = model(probe)
    record.results["initial"] = {"probs": ops.convert_to_numpy(probs), "values": ops.convert_to_numpy(values)}

    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    huber_loss = keras.losses.Huber()
    action_probs_history = []
    critic_value_history = []
    rewards_history = []
    running_reward = 0
    episode_count = 0

    for _ in range(6):
        state = env.reset()
        episode_reward = 0
        for timestep in range(1, max_steps_per_episode):
            state = ops.convert_to_tensor(state)
            state = ops.expand_dims(state, 0)

            # Predict action probabilities and estimated future rewards
            # from environment state
            action_probs, critic_value = model(state)
            critic_value_history.append(critic_value[0, 0])

            # Sample action from action probability distribution
            action = action_rng.choice(num_actions, p=np.squeeze(ops.convert_to_numpy(action_probs)))
            action_probs_history.append(ops.log(action_probs[0, action]))

            # Apply the sampled action in our environment
            state, reward, done, _ = env.step(action)
            rewards_history.append(reward)
            episode_reward += reward

            if done:
                break

        # Update running reward to check condition for solving
        running_reward = 0.05 * episode_reward + (1 - 0.05) * running_reward

        # Calculate expected value from rewards
        returns = []
        discounted_sum = 0
        for r in rewards_history[::-1]:
            discounted_sum = r + gamma * discounted_sum
            returns.insert(0, discounted_sum)

        # Normalize
        returns = np.array(returns)
        returns = (returns - np.mean(returns)) / (np.std(returns) + eps)
        returns = returns.tolist()

        # Calculating loss values to update our network
        history = zip(action_probs_history, critic_value_history, returns)
        actor_losses = []
        critic_losses = []
        for log_prob, value, ret in history:
            diff = ret - value
            actor_losses.append(-log_prob * diff)  # actor loss
            critic_losses.append(huber_loss(ops.expand_dims(value, 0), ops.expand_dims(ret, 0)))

        # Backpropagation
        loss_value = sum(actor_losses) + sum(critic_losses)
        loss_value.backward()
        trainable_weights = [v for v in model.trainable_weights]
        grads = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            optimizer.apply(grads, trainable_weights)
        model.zero_grad()

        # Clear the loss and reward history
        action_probs_history.clear()
        critic_value_history.clear()
        rewards_history.clear()

        episode_count += 1
        record.history["loss"].append(float(loss_value))
        record.history["reward"].append(episode_reward)

    record.results["final"] = {"running_reward": running_reward, "episodes": episode_count}
    return record

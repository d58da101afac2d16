"""Port of keras-io `examples/rl/ppo_cartpole.py` (Proximal Policy Optimization, Ilias
Chrysovergis).

Changed: the environment (`gym.make("CartPole-v0")` -> `_CartPole`, the deterministic NumPy
cart-pole of the actor-critic port, its start states from a seeded generator), `steps_per_epoch`
4000 -> 160, `epochs` 30 -> 3, `train_policy_iterations` / `train_value_iterations` 80 -> 10,
prints -> recorded numbers, the `save` / `load` helpers dropped (unused), the library passed in
as `keras`. TensorFlow calls -> `keras.ops` as the Keras 3 edition of the example does:
`tf.random.categorical(logits, 1)` -> `keras.random.categorical(logits, 1, seed=...)` drawing
from a `keras.random.SeedGenerator(1337)`, `tf.nn.log_softmax` / `tf.one_hot` / `tf.reduce_*` /
`tf.where` / `tf.minimum` / `tf.exp` / `tf.squeeze` / `tf.tanh` -> `ops.*`; `@tf.function`
dropped; `tf.GradientTape` -> torch autograd (the loss `.backward()`, the gradients read from
`v.value.grad` and applied with `optimizer.apply` under `torch.no_grad()`, then cleared; the
NumPy buffers converted with `ops.convert_to_tensor` first, as `tf.function` converted them:
NumPy's operators would take the tensors over), the KL read under `torch.no_grad()`; the
critic's value and the log-probability stored in the NumPy buffer as the first element of
`ops.convert_to_numpy(...)` (NumPy refuses a tensor that requires grad, and NumPy 2 a
one-element array as an element), `action[0].numpy()` -> `ops.convert_to_numpy(action)[0]`.
Kept: the PPO class with its Buffer (GAE-lambda advantages and rewards-to-go by
`scipy.signal.lfilter`), the two MLPs (64, 64, tanh), the squeezed critic output built with
`ops.squeeze` on a symbolic tensor, the clipped objective, the KL early stop, Adam(3e-4) and
Adam(1e-3). Returned: a History-like record whose "loss" is each epoch's last value-function
loss, "policy_loss" its last policy loss, "kl" its last KL and "mean_return" its mean episode
return; `History.results` keeps the initial logits and values of fixed probe states (the parity
test compares them).
"""

import numpy as np
import scipy.signal
import torch

from tests.ports.rl_actor_critic_cartpole import _CartPole


class _Record:
    """What the example prints, kept like a Keras History."""

    def __init__(self):
        self.history = {"loss": [], "policy_loss": [], "kl": [], "mean_return": []}
        self.results = {}


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns a History-like record.

    `on_model(model)` is called on the actor and the critic before they train; `shuffle` is not
    used (the example trains on whole buffers).
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    record = _Record()
    seed_generator = keras.random.SeedGenerator(1337)

    def apply_gradients(loss, model, optimizer):
        loss.backward()
        grads = [v.value.grad for v in model.trainable_variables]
        with torch.no_grad():
            optimizer.apply(grads, model.trainable_variables)
        model.zero_grad()

    class PPO:
        def __init__(
            self,
            observation_dimensions,
            num_actions,
            steps_per_epoch,
            policy_learning_rate=3e-4,
            value_function_learning_rate=1e-3,
            clip_ratio=0.2,
            hidden_sizes=(64, 64),
            gamma=0.99,
            lam=0.95,
        ):
            self.observation_dimensions = observation_dimensions
            self.steps_per_epoch = steps_per_epoch
            self.hidden_sizes = hidden_sizes
            self.num_actions = num_actions
            self.policy_learning_rate = policy_learning_rate
            self.value_function_learning_rate = value_function_learning_rate
            self.clip_ratio = clip_ratio

            # Initialize the buffer
            self.buffer = self.Buffer(self.observation_dimensions, self.steps_per_epoch)

            # Initialize the actor and the critic as keras models
            observation_input = keras.Input(shape=(self.observation_dimensions,), dtype="float32")

            logits = self.mlp(
                observation_input, list(self.hidden_sizes) + [self.num_actions], ops.tanh, None
            )

            self.actor = keras.Model(inputs=observation_input, outputs=logits)

            value = ops.squeeze(
                self.mlp(observation_input, list(self.hidden_sizes) + [1], ops.tanh, None),
                axis=1,
            )

            self.critic = keras.Model(inputs=observation_input, outputs=value)

            # Initialize the policy and the value function optimizers
            self.policy_optimizer = keras.optimizers.Adam(learning_rate=self.policy_learning_rate)

            self.value_optimizer = keras.optimizers.Adam(
                learning_rate=self.value_function_learning_rate
            )

        class Buffer:
            # Buffer for storing trajectories
            def __init__(self, observation_dimensions, size, gamma=0.99, lam=0.95):
                # Buffer initialization
                self.gamma = gamma
                self.lam = lam
                self.pointer = 0
                self.trajectory_start_index = 0

                shape = (size, observation_dimensions)
                self.observation_buffer = np.zeros(shape, dtype=np.float32)
                self.action_buffer = np.zeros(size, dtype=np.int32)
                self.advantage_buffer = np.zeros(size, dtype=np.float32)
                self.reward_buffer = np.zeros(size, dtype=np.float32)
                self.return_buffer = np.zeros(size, dtype=np.float32)
                self.value_buffer = np.zeros(size, dtype=np.float32)
                self.logprobability_buffer = np.zeros(size, dtype=np.float32)

            def store(self, observation, action, reward, value, logprobability):
                # Append one step of agent-environment interaction
                self.observation_buffer[self.pointer] = observation
                self.action_buffer[self.pointer] = action
                self.reward_buffer[self.pointer] = reward
                self.value_buffer[self.pointer] = value
                self.logprobability_buffer[self.pointer] = logprobability
                self.pointer += 1

            def finish_trajectory(self, last_value=0):
                # Finish the trajectory by computing advantage estimates and rewards-to-go
                path_slice = slice(self.trajectory_start_index, self.pointer)
                rewards = np.append(self.reward_buffer[path_slice], last_value)
                values = np.append(self.value_buffer[path_slice], last_value)

                # Compute the GAE-Lambda advantage estimates
                deltas = rewards[:-1] + self.gamma * values[1:] - values[:-1]
                self.advantage_buffer[path_slice] = self.discounted_cumulative_sums(
                    deltas, self.gamma * self.lam
                )

                # Compute the rewards-to-go
                self.return_buffer[path_slice] = self.discounted_cumulative_sums(
                    rewards, self.gamma
                )[:-1]

                self.trajectory_start_index = self.pointer

            def get(self):
                # Get all data of the buffer and normalize the advantages
                self.pointer, self.trajectory_start_index = 0, 0
                advantage_mean, advantage_std = (
                    np.mean(self.advantage_buffer),
                    np.std(self.advantage_buffer),
                )
                self.advantage_buffer = (self.advantage_buffer - advantage_mean) / advantage_std
                return (
                    self.observation_buffer,
                    self.action_buffer,
                    self.advantage_buffer,
                    self.return_buffer,
                    self.logprobability_buffer,
                )

            def discounted_cumulative_sums(self, x, discount):
                # Discounted cumulative sums of vectors for computing rewards-to-go and advantage estimates
                return scipy.signal.lfilter([1], [1, float(-discount)], x[::-1], axis=0)[::-1]

        def mlp(self, x, sizes, activation=ops.tanh, output_activation=None):
            # Build a feedforward neural network
            for size in sizes[:-1]:
                x = layers.Dense(units=size, activation=activation)(x)
            return layers.Dense(units=sizes[-1], activation=output_activation)(x)

        def logprobabilities(self, logits, a):
            # Compute the log-probabilities of taking actions a by using the logits (i.e. the output of the actor)
            logprobabilities_all = ops.log_softmax(logits)
            logprobability = ops.sum(ops.one_hot(a, self.num_actions) * logprobabilities_all, axis=1)
            return logprobability

        def sample_action(self, observation):
            # Sample action from actor
            logits = self.actor(observation)
            action = ops.squeeze(keras.random.categorical(logits, 1, seed=seed_generator), axis=1)
            return logits, action

        def train_policy(self, observation_buffer, action_buffer, logprobability_buffer, advantage_buffer):
            # Train the policy by maxizing the PPO-Clip objective
            observation_buffer, action_buffer, logprobability_buffer, advantage_buffer = (
                ops.convert_to_tensor(b)
                for b in (observation_buffer, action_buffer, logprobability_buffer, advantage_buffer)
            )
            ratio = ops.exp(
                self.logprobabilities(self.actor(observation_buffer), action_buffer)
                - logprobability_buffer
            )
            min_advantage = ops.where(
                advantage_buffer > 0,
                (1 + self.clip_ratio) * advantage_buffer,
                (1 - self.clip_ratio) * advantage_buffer,
            )

            policy_loss = -ops.mean(ops.minimum(ratio * advantage_buffer, min_advantage))
            apply_gradients(policy_loss, self.actor, self.policy_optimizer)

            with torch.no_grad():
                self.kl = ops.mean(
                    logprobability_buffer
                    - self.logprobabilities(self.actor(observation_buffer), action_buffer)
                )
                self.kl = ops.sum(self.kl)
            self.policy_loss = float(ops.convert_to_numpy(policy_loss))
            return self.kl

        def train_value_function(self, observation_buffer, return_buffer):
            # Train the value function by regression on mean-squared error
            observation_buffer, return_buffer = ops.convert_to_tensor(observation_buffer), ops.convert_to_tensor(return_buffer)
            value_loss = ops.mean((return_buffer - self.critic(observation_buffer)) ** 2)
            apply_gradients(value_loss, self.critic, self.value_optimizer)
            self.value_loss = float(ops.convert_to_numpy(value_loss))

    # Hyperparameters of the PPO algorithm
    steps_per_epoch = 160
    epochs = 3
    train_policy_iterations = 10
    train_value_iterations = 10
    target_kl = 0.01
    hidden_sizes = (64, 64)

    # Initialize the environment and get the dimensionality of the
    # observation space and the number of possible actions
    env = _CartPole(42)
    observation_dimensions = 4
    num_actions = 2

    # Initialize PPO
    ppo = PPO(
        observation_dimensions=observation_dimensions,
        num_actions=num_actions,
        steps_per_epoch=steps_per_epoch,
        hidden_sizes=hidden_sizes,
    )
    on_model(ppo.actor)
    on_model(ppo.critic)
    probe = np.linspace(-0.1, 0.1, 5 * observation_dimensions, dtype="float32").reshape(5, -1)
    record.results["initial"] = {"logits": ops.convert_to_numpy(ppo.actor(probe)),
                                 "values": ops.convert_to_numpy(ppo.critic(probe))}

    # Initialize the observation, episode return and episode length
    observation, episode_return, episode_length = env.reset(), 0, 0

    # Iterate over the number of epochs
    for epoch in range(epochs):
        # Initialize the sum of the returns, lengths and number of episodes for each epoch
        sum_return = 0
        sum_length = 0
        num_episodes = 0

        # Iterate over the steps of each epoch
        for t in range(steps_per_epoch):
            # Get the logits, action, and take one step in the environment
            observation = observation.reshape(1, -1)
            logits, action = ppo.sample_action(observation)
            observation_new, reward, done, _ = env.step(ops.convert_to_numpy(action)[0])
            episode_return += reward
            episode_length += 1

            # Get the value and log-probability of the action
            value_t = ops.convert_to_numpy(ppo.critic(observation))[0]
            logprobability_t = ops.convert_to_numpy(ppo.logprobabilities(logits, action))[0]

            # Store obs, act, rew, v_t, logp_pi_t
            ppo.buffer.store(observation, ops.convert_to_numpy(action)[0], reward, value_t, logprobability_t)

            # Update the observation
            observation = observation_new

            # Finish trajectory if reached to a terminal state
            terminal = done
            if terminal or (t == steps_per_epoch - 1):
                last_value = 0 if done else ops.convert_to_numpy(ppo.critic(observation.reshape(1, -1)))[0]
                ppo.buffer.finish_trajectory(last_value)
                sum_return += episode_return
                sum_length += episode_length
                num_episodes += 1
                observation, episode_return, episode_length = env.reset(), 0, 0

        # Get values from the buffer
        (
            observation_buffer,
            action_buffer,
            advantage_buffer,
            return_buffer,
            logprobability_buffer,
        ) = ppo.buffer.get()

        # Update the policy and implement early stopping using KL divergence
        for _ in range(train_policy_iterations):
            kl = ppo.train_policy(
                observation_buffer, action_buffer, logprobability_buffer, advantage_buffer
            )
            if kl > 1.5 * target_kl:
                # Early Stopping
                break

        # Update the value function
        for _ in range(train_value_iterations):
            ppo.train_value_function(observation_buffer, return_buffer)

        record.history["loss"].append(ppo.value_loss)
        record.history["policy_loss"].append(ppo.policy_loss)
        record.history["kl"].append(float(ops.convert_to_numpy(kl)))
        record.history["mean_return"].append(sum_return / num_episodes)

    return record

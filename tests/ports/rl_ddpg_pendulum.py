"""Port of keras-io `examples/rl/ddpg_pendulum.py` (Deep Deterministic Policy Gradient,
amifunny).

Changed: the environment (`gym.make("Pendulum-v0")` -> `_Pendulum`, a small NumPy pendulum
written here with gym's equations, torque bound 2, reward and 0.05 s steps, its start state
drawn from a seeded generator, an episode ending after 25 steps instead of 200),
`total_episodes` 100 -> 4, `Buffer(50000, 64)` -> `Buffer(1000, 32)`, the OU noise's and the
replay's `np.random` calls -> the same calls on one seeded `np.random.default_rng(seed)`,
prints / plots / `save_weights` -> recorded numbers, the library passed in as `keras`.
`tf.GradientTape` -> torch autograd, as keras-io's torch guides do: each loss is
`.backward()`-ed, the gradients read from `v.value.grad` of the model's trainable variables and
applied with `optimizer.apply` under `torch.no_grad()`, then every model's gradients are
cleared (torch accumulates into the target and critic networks the tape did not watch);
`@tf.function` dropped; `tf.random_uniform_initializer` -> `keras.initializers.RandomUniform`,
`tf.convert_to_tensor` / `tf.expand_dims` / `tf.squeeze` / `tf.cast` / `tf.math.*` ->
`keras.ops`; `Input(shape=(num_states))` -> `shape=(num_states,)` (Keras 3 needs a tuple);
`update_target` assigns under `torch.no_grad()` (an in-place write to a parameter). Kept: the
actor (two Dense(256, relu), a tanh head with the small uniform initializer, scaled by the
upper bound) and the two-input critic with its Concatenate, target networks initialised with
`set_weights(get_weights())` and soft-updated through `model.variables[i].assign`, Adam(0.002)
and Adam(0.001), the models called with `training=True` in the update, the OU noise, clipping.
Returned: a History-like record whose "loss" is each episode's mean critic loss,
"actor_loss" its mean actor loss and "reward" its reward; `History.results` keeps the initial
actor / critic outputs on fixed probes (the parity test compares them).
"""

import math

import numpy as np
import torch


class _Pendulum:
    """Pendulum-v0's dynamics (g=10, m=l=1, dt=0.05, max speed 8, max torque 2)."""

    max_speed, max_torque, dt, g, m, l = 8.0, 2.0, 0.05, 10.0, 1.0, 1.0

    def __init__(self, seed, max_steps=25):
        self.rng = np.random.default_rng(seed)
        self.max_steps = max_steps
        self.state = None
        self.steps = 0

    def _obs(self):
        theta, thetadot = self.state
        return np.array([math.cos(theta), math.sin(theta), thetadot], dtype="float32")

    def reset(self):
        self.state = self.rng.uniform([-math.pi, -1.0], [math.pi, 1.0])
        self.steps = 0
        return self._obs()

    def step(self, u):
        th, thdot = self.state
        u = float(np.clip(np.ravel(u)[0], -self.max_torque, self.max_torque))
        angle = ((th + math.pi) % (2 * math.pi)) - math.pi
        costs = angle**2 + 0.1 * thdot**2 + 0.001 * u**2
        newthdot = thdot + (-3 * self.g / (2 * self.l) * math.sin(th + math.pi)
                            + 3.0 / (self.m * self.l**2) * u) * self.dt
        newth = th + newthdot * self.dt
        self.state = np.array([newth, np.clip(newthdot, -self.max_speed, self.max_speed)])
        self.steps += 1
        return self._obs(), -costs, self.steps >= self.max_steps, {}


class _Record:
    """What the example prints, kept like a Keras History."""

    def __init__(self):
        self.history = {"loss": [], "actor_loss": [], "reward": []}
        self.results = {}


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns a History-like record.

    `on_model(model)` is called on each of the four models before training starts; `shuffle`
    is not used (the replay draws its batches from the seeded generator).
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    record = _Record()
    seed = 42
    env = _Pendulum(seed)
    rng = np.random.default_rng(seed)

    num_states = 3
    num_actions = 1
    upper_bound = 2.0
    lower_bound = -2.0

    class OUActionNoise:
        def __init__(self, mean, std_deviation, theta=0.15, dt=1e-2, x_initial=None):
            self.theta = theta
            self.mean = mean
            self.std_dev = std_deviation
            self.dt = dt
            self.x_initial = x_initial
            self.reset()

        def __call__(self):
            # Formula taken from https://www.wikipedia.org/wiki/Ornstein-Uhlenbeck_process.
            x = (
                self.x_prev
                + self.theta * (self.mean - self.x_prev) * self.dt
                + self.std_dev * np.sqrt(self.dt) * rng.normal(size=self.mean.shape)
            )
            # Store x into x_prev
            # Makes next noise dependent on current one
            self.x_prev = x
            return x

        def reset(self):
            if self.x_initial is not None:
                self.x_prev = self.x_initial
            else:
                self.x_prev = np.zeros_like(self.mean)

    def apply_gradients(loss, model, optimizer):
        loss.backward()
        grads = [v.value.grad for v in model.trainable_variables]
        with torch.no_grad():
            optimizer.apply(grads, model.trainable_variables)
        for m in (actor_model, critic_model, target_actor, target_critic):
            m.zero_grad()

    class Buffer:
        def __init__(self, buffer_capacity=100000, batch_size=64):
            # Number of "experiences" to store at max
            self.buffer_capacity = buffer_capacity
            # Num of tuples to train on.
            self.batch_size = batch_size

            # Its tells us num of times record() was called.
            self.buffer_counter = 0

            # Instead of list of tuples as the exp.replay concept go
            # We use different np.arrays for each tuple element
            self.state_buffer = np.zeros((self.buffer_capacity, num_states))
            self.action_buffer = np.zeros((self.buffer_capacity, num_actions))
            self.reward_buffer = np.zeros((self.buffer_capacity, 1))
            self.next_state_buffer = np.zeros((self.buffer_capacity, num_states))
            self.losses = []

        # Takes (s,a,r,s') obervation tuple as input
        def record(self, obs_tuple):
            # Set index to zero if buffer_capacity is exceeded,
            # replacing old records
            index = self.buffer_counter % self.buffer_capacity

            self.state_buffer[index] = obs_tuple[0]
            self.action_buffer[index] = obs_tuple[1]
            self.reward_buffer[index] = obs_tuple[2]
            self.next_state_buffer[index] = obs_tuple[3]

            self.buffer_counter += 1

        def update(self, state_batch, action_batch, reward_batch, next_state_batch):
            # Training and updating Actor & Critic networks.
            # See Pseudo Code.
            target_actions = target_actor(next_state_batch, training=True)
            y = reward_batch + gamma * target_critic(
                [next_state_batch, target_actions], training=True
            )
            critic_value = critic_model([state_batch, action_batch], training=True)
            critic_loss = ops.mean(ops.square(y - critic_value))
            apply_gradients(critic_loss, critic_model, critic_optimizer)

            actions = actor_model(state_batch, training=True)
            critic_value = critic_model([state_batch, actions], training=True)
            # Used `-value` as we want to maximize the value given
            # by the critic for our actions
            actor_loss = -ops.mean(critic_value)
            apply_gradients(actor_loss, actor_model, actor_optimizer)
            self.losses.append((float(ops.convert_to_numpy(critic_loss)), float(ops.convert_to_numpy(actor_loss))))

        # We compute the loss and update parameters
        def learn(self):
            # Get sampling range
            record_range = min(self.buffer_counter, self.buffer_capacity)
            # Randomly sample indices
            batch_indices = rng.choice(record_range, self.batch_size)

            # Convert to tensors
            state_batch = ops.convert_to_tensor(self.state_buffer[batch_indices], "float32")
            action_batch = ops.convert_to_tensor(self.action_buffer[batch_indices], "float32")
            reward_batch = ops.convert_to_tensor(self.reward_buffer[batch_indices])
            reward_batch = ops.cast(reward_batch, dtype="float32")
            next_state_batch = ops.convert_to_tensor(self.next_state_buffer[batch_indices], "float32")

            self.update(state_batch, action_batch, reward_batch, next_state_batch)

    # This update target parameters slowly
    # Based on rate `tau`, which is much less than one.
    def update_target(target_weights, weights, tau):
        with torch.no_grad():
            for a, b in zip(target_weights, weights):
                a.assign(b * tau + a * (1 - tau))

    def get_actor():
        # Initialize weights between -3e-3 and 3-e3
        last_init = keras.initializers.RandomUniform(minval=-0.003, maxval=0.003)

        inputs = layers.Input(shape=(num_states,))
        out = layers.Dense(256, activation="relu")(inputs)
        out = layers.Dense(256, activation="relu")(out)
        outputs = layers.Dense(1, activation="tanh", kernel_initializer=last_init)(out)

        # Our upper bound is 2.0 for Pendulum.
        outputs = outputs * upper_bound
        model = keras.Model(inputs, outputs)
        return model

    def get_critic():
        # State as input
        state_input = layers.Input(shape=(num_states,))
        state_out = layers.Dense(16, activation="relu")(state_input)
        state_out = layers.Dense(32, activation="relu")(state_out)

        # Action as input
        action_input = layers.Input(shape=(num_actions,))
        action_out = layers.Dense(32, activation="relu")(action_input)

        # Both are passed through seperate layer before concatenating
        concat = layers.Concatenate()([state_out, action_out])

        out = layers.Dense(256, activation="relu")(concat)
        out = layers.Dense(256, activation="relu")(out)
        outputs = layers.Dense(1)(out)

        # Outputs single value for give state-action
        model = keras.Model([state_input, action_input], outputs)

        return model

    def policy(state, noise_object):
        sampled_actions = ops.squeeze(actor_model(state))
        noise = noise_object()
        # Adding noise to action
        sampled_actions = ops.convert_to_numpy(sampled_actions) + noise

        # We make sure action is within bounds
        legal_action = np.clip(sampled_actions, lower_bound, upper_bound)

        return [np.squeeze(legal_action)]

    std_dev = 0.2
    ou_noise = OUActionNoise(mean=np.zeros(1), std_deviation=float(std_dev) * np.ones(1))

    actor_model = get_actor()
    critic_model = get_critic()

    target_actor = get_actor()
    target_critic = get_critic()

    # Making the weights equal initially
    target_actor.set_weights(actor_model.get_weights())
    target_critic.set_weights(critic_model.get_weights())
    for model in (actor_model, critic_model, target_actor, target_critic):
        on_model(model)
    probe_states = np.linspace(-1.0, 1.0, 4 * num_states, dtype="float32").reshape(4, num_states)
    probe_actions = np.linspace(-2.0, 2.0, 4, dtype="float32").reshape(4, 1)
    record.results["initial"] = {
        "actor": ops.convert_to_numpy(actor_model(probe_states)),
        "critic": ops.convert_to_numpy(critic_model([probe_states, probe_actions])),
    }

    # Learning rate for actor-critic models
    critic_lr = 0.002
    actor_lr = 0.001

    critic_optimizer = keras.optimizers.Adam(critic_lr)
    actor_optimizer = keras.optimizers.Adam(actor_lr)

    total_episodes = 4
    # Discount factor for future rewards
    gamma = 0.99
    # Used to update target networks
    tau = 0.005

    buffer = Buffer(1000, 32)

    # To store reward history of each episode
    ep_reward_list = []
    # To store average reward history of last few episodes
    avg_reward_list = []

    for ep in range(total_episodes):
        prev_state = env.reset()
        episodic_reward = 0
        buffer.losses = []

        while True:
            tf_prev_state = ops.expand_dims(ops.convert_to_tensor(prev_state), 0)

            action = policy(tf_prev_state, ou_noise)
            # Recieve state and reward from environment.
            state, reward, done, info = env.step(action)

            buffer.record((prev_state, action, reward, state))
            episodic_reward += reward

            buffer.learn()
            update_target(target_actor.variables, actor_model.variables, tau)
            update_target(target_critic.variables, critic_model.variables, tau)

            # End this episode when `done` is True
            if done:
                break

            prev_state = state

        ep_reward_list.append(episodic_reward)

        # Mean of last 40 episodes
        avg_reward = np.mean(ep_reward_list[-40:])
        avg_reward_list.append(avg_reward)
        critic_losses, actor_losses = zip(*buffer.losses)
        record.history["loss"].append(float(np.mean(critic_losses)))
        record.history["actor_loss"].append(float(np.mean(actor_losses)))
        record.history["reward"].append(float(episodic_reward))

    record.results["final"] = {"avg_reward": avg_reward_list,
                               "target_actor": ops.convert_to_numpy(target_actor(probe_states))}
    return record

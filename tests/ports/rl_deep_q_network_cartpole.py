"""Port of keras-io `examples/rl/deep_q_network_cartpole.py` (Deep Q Network Method, Jacob
Chapman).

Changed: the environment (`gym.make("CartPole-v0")` -> `_CartPole`, the deterministic NumPy
cart-pole of the actor-critic port, its start state from a seeded generator),
`max_steps_per_episode` 10000 -> 30, `batch_size` 128 -> 16, the "run until solved" loop -> 5
episodes, `np.random.rand` / `np.random.choice` -> the same calls on a seeded
`np.random.default_rng(seed)`, prints -> recorded numbers, the library passed in as `keras`.
`tf.convert_to_tensor` / `tf.expand_dims` -> `keras.ops`; `np.argmax(action_probs[0])`,
`np.amax(model(...)[0])` and `np.array(model(...))[0]` read the model's output through
`ops.convert_to_numpy` (on torch the output is a tensor that requires grad, which NumPy refuses:
Keras 3 fails there too). Kept: the Q-network (two Dense(24, relu), a linear head),
Adam(0.01) and `MeanSquaredError()` compiled, epsilon-greedy exploration with its decay, the
replay memory, the per-sample Bellman targets, and one `model.fit(..., verbose=0)` on each
sampled batch. Returned: a History-like record whose "loss" is each `fit` call's loss and
"reward" each episode's reward; `History.results` keeps the initial Q-values of a fixed batch
of states and the last Bellman targets (the parity test compares them).
"""

import numpy as np

from tests.ports.rl_actor_critic_cartpole import _CartPole


class _Record:
    """What the example prints, kept like a Keras History."""

    def __init__(self):
        self.history = {"loss": [], "reward": []}
        self.results = {}


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns a History-like record.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to each `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    record = _Record()

    # Configuration paramaters for the whole setup
    seed = 42
    gamma = 0.99  # Discount factor for past rewards
    epsilon = 1.0  # epsilon greedy parameter
    epsilon_min = 0.01  # minimum epsilon greedy parameter
    epsilon_decay = 0.999  # rate at which to reduce chance of random action being taken
    batch_size = 16  # size of batch taken from replay buffer
    max_steps_per_episode = 30
    env = _CartPole(seed)  # Create the environment
    rng = np.random.default_rng(seed)

    num_inputs = 4
    num_actions = 2
    num_hidden = 24

    inputs = layers.Input(shape=(num_inputs,))
    hidden_layer_1 = layers.Dense(num_hidden, activation="relu")(inputs)
    hidden_layer_2 = layers.Dense(num_hidden, activation="relu")(hidden_layer_1)
    action = layers.Dense(num_actions, activation="linear")(hidden_layer_2)

    model = keras.Model(inputs=inputs, outputs=action)

    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    mse_loss = keras.losses.MeanSquaredError()
    model.compile(loss=mse_loss, optimizer=optimizer)
    on_model(model)
    probe = np.linspace(-0.1, 0.1, 5 * num_inputs, dtype="float32").reshape(5, num_inputs)
    record.results["initial"] = {"q": ops.convert_to_numpy(model(probe))}

    action_history = []
    state_history = []
    state_next_history = []
    rewards_history = []
    done_history = []
    running_reward = 0
    episode_count = 0

    for _ in range(5):
        state = env.reset()
        episode_reward = 0

        for timestep in range(1, max_steps_per_episode):
            state_tensor = ops.convert_to_tensor(state)
            state_tensor = ops.expand_dims(state_tensor, 0)

            # Predict action q-values
            # from environment state
            action_probs = model(state_tensor)

            # take best action
            action = np.argmax(ops.convert_to_numpy(action_probs)[0])

            # use epsilon-greedy for exploration
            if epsilon > rng.random(1)[0]:
                # take random action
                action = rng.choice(num_actions)

            # decay probability of taking random action
            epsilon *= epsilon_decay
            epsilon = max(epsilon_min, epsilon)

            # Apply the sampled action in our environment
            state_next, reward, done, _ = env.step(action)

            episode_reward += reward

            # save actions and states in replay buffer
            action_history.append(action)
            state_history.append(state)
            state_next_history.append(state_next)
            done_history.append(done)
            rewards_history.append(reward if not done else -1)
            state = state_next

            if len(done_history) > batch_size:
                # sample from history for replay
                indices = rng.choice(range(len(state_history)), size=batch_size)

                state_sample = np.take(state_history, indices, axis=0)
                state_next_sample = np.take(state_next_history, indices, axis=0)
                rewards_sample = np.take(rewards_history, indices, axis=0)
                done_sample = np.take(done_history, indices, axis=0)
                action_sample = np.take(action_history, indices, axis=0)

                history = zip(
                    state_sample,
                    state_next_sample,
                    rewards_sample,
                    done_sample,
                    action_sample,
                )

                updated_q_values = []
                for (
                    sampled_state,
                    sampled_state_next,
                    sampled_reward,
                    sampled_done,
                    sampled_action,
                ) in history:
                    q_update = sampled_reward
                    if not sampled_done:
                        # Calculate the new q value
                        sampled_state_next = ops.convert_to_tensor(sampled_state_next)
                        sampled_state_next = ops.expand_dims(sampled_state_next, 0)
                        # q value = reward + discount factor * expected future reward
                        q_update = sampled_reward + gamma * np.amax(
                            ops.convert_to_numpy(model(sampled_state_next))[0]
                        )

                    sampled_state = ops.convert_to_tensor(sampled_state)
                    sampled_state = ops.expand_dims(sampled_state, 0)

                    # replace old q value with the updated value
                    q_value = np.array(ops.convert_to_numpy(model(sampled_state)))[0]
                    q_value[sampled_action] = q_update

                    updated_q_values.append(q_value)

                # train the model on the states and updated q values
                fit_history = model.fit(
                    ops.convert_to_tensor(state_sample),
                    ops.convert_to_tensor(np.array(updated_q_values)),
                    verbose=0,
                    shuffle=shuffle,
                )
                record.history["loss"].append(fit_history.history["loss"][0])
                record.results["targets"] = {"q": np.array(updated_q_values)}

            if done:
                break
        # Update running reward to check condition for solving
        running_reward = 0.05 * episode_reward + (1 - 0.05) * running_reward

        episode_count += 1
        record.history["reward"].append(episode_reward)

    record.results["final"] = {"running_reward": running_reward, "episodes": episode_count}
    return record

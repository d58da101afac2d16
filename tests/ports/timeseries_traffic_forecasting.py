"""Port of keras-io `examples/timeseries/timeseries_traffic_forecasting.py` (Arash Khodadadi,
Keras 3 edition).

Changed: data (the PeMSD7 download -> a seeded synthetic speed array (T=120, 6 routes) and a
6-node distance matrix (points on a circle); the example's preprocessing, `compute_adjacency_matrix`
and windowing are kept, its tf.data windows built with numpy), sizes (batch 64 -> 16, input 12,
horizon 3, lstm_units 64 -> 16, out_feat 10 -> 8), epochs 20 -> 3, the library passed in as
`keras`. `GraphConv.aggregate`'s `tf.math.unsorted_segment_{sum,mean,max}` -> `keras.ops.segment_sum`
/ `segment_max` (the mean as the sum over the node's neighbour count) and
`compute_aggregated_messages`' `tf.gather` -> `keras.ops.take(..., axis=0)`. Kept: `GraphInfo`,
`GraphConv` (its weight made in `__init__` with `add_weight`, `ops.matmul`, `ops.concatenate`),
`LSTMGC` (`ops.transpose`, `ops.shape`, `ops.reshape`, an LSTM with relu activation, a Dense
head), the functional model, RMSprop(2e-4) and MeanSquaredError, `fit` with `validation_data` and
`EarlyStopping(patience=10)`, and `predict`.
"""

import typing

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    num_nodes_total, steps = 6, 120
    t = np.arange(steps)[:, None]
    speeds_array = (60 + 8 * np.sin(2 * np.pi * t / 24 + np.arange(num_nodes_total)) + rng.normal(0, 1, (steps, num_nodes_total))).astype("float32")
    coords = np.stack([np.cos(np.arange(num_nodes_total)), np.sin(np.arange(num_nodes_total))], axis=1)
    route_distances = np.sqrt(((coords[:, None] - coords[None]) ** 2).sum(-1)) * 2000

    train_size, val_size = 0.5, 0.2

    def preprocess(data_array: np.ndarray, train_size: float, val_size: float):
        num_time_steps = data_array.shape[0]
        num_train, num_val = (
            int(num_time_steps * train_size),
            int(num_time_steps * val_size),
        )
        train_array = data_array[:num_train]
        mean, std = train_array.mean(axis=0), train_array.std(axis=0)

        train_array = (train_array - mean) / std
        val_array = (data_array[num_train : (num_train + num_val)] - mean) / std
        test_array = (data_array[(num_train + num_val) :] - mean) / std

        return train_array, val_array, test_array

    train_array, val_array, test_array = preprocess(speeds_array, train_size, val_size)

    batch_size = 16
    input_sequence_length = 12
    forecast_horizon = 3
    multi_horizon = False

    def create_windows(data_array, input_sequence_length, forecast_horizon, multi_horizon=True):
        # The example's `create_tf_dataset` windows (inputs (T, N, 1), targets (H, N)) in numpy.
        offset = 0 if multi_horizon else forecast_horizon - 1
        n = data_array.shape[0] - input_sequence_length - forecast_horizon + 1
        inputs = np.stack([data_array[i : i + input_sequence_length] for i in range(n)])[..., None]
        start = input_sequence_length + offset
        targets = np.stack([data_array[i + start : i + input_sequence_length + forecast_horizon] for i in range(n)])
        return inputs.astype("float32"), targets.astype("float32")

    x_train, y_train = create_windows(train_array, input_sequence_length, forecast_horizon, multi_horizon)
    x_val, y_val = create_windows(val_array, input_sequence_length, forecast_horizon, multi_horizon)
    x_test, y_test = create_windows(test_array, input_sequence_length, forecast_horizon, multi_horizon)

    def compute_adjacency_matrix(route_distances: np.ndarray, sigma2: float, epsilon: float):
        num_routes = route_distances.shape[0]
        route_distances = route_distances / 10000.0
        w2, w_mask = (
            route_distances * route_distances,
            np.ones([num_routes, num_routes]) - np.identity(num_routes),
        )
        return (np.exp(-w2 / sigma2) >= epsilon) * w_mask

    class GraphInfo:
        def __init__(self, edges: typing.Tuple[list, list], num_nodes: int):
            self.edges = edges
            self.num_nodes = num_nodes

    sigma2 = 0.1
    epsilon = 0.5
    adjacency_matrix = compute_adjacency_matrix(route_distances, sigma2, epsilon)
    node_indices, neighbor_indices = np.where(adjacency_matrix == 1)
    graph = GraphInfo(
        edges=(node_indices.tolist(), neighbor_indices.tolist()),
        num_nodes=adjacency_matrix.shape[0],
    )
    assert 0 < len(graph.edges[0]) < num_nodes_total * (num_nodes_total - 1)

    class GraphConv(layers.Layer):
        def __init__(
            self,
            in_feat,
            out_feat,
            graph_info: GraphInfo,
            aggregation_type="mean",
            combination_type="concat",
            activation: typing.Optional[str] = None,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.in_feat = in_feat
            self.out_feat = out_feat
            self.graph_info = graph_info
            self.aggregation_type = aggregation_type
            self.combination_type = combination_type
            self.weight = self.add_weight(
                initializer=keras.initializers.GlorotUniform(),
                shape=(in_feat, out_feat),
                dtype="float32",
                trainable=True,
            )
            self.activation = layers.Activation(activation)

        def aggregate(self, neighbour_representations):
            segment_ids = np.asarray(self.graph_info.edges[0])
            num_segments = self.graph_info.num_nodes
            if self.aggregation_type == "sum":
                return ops.segment_sum(neighbour_representations, segment_ids, num_segments=num_segments)
            if self.aggregation_type == "mean":
                counts = np.bincount(segment_ids, minlength=num_segments).clip(min=1)
                counts = counts.reshape((-1,) + (1,) * (len(neighbour_representations.shape) - 1))
                total = ops.segment_sum(neighbour_representations, segment_ids, num_segments=num_segments)
                return total / counts.astype("float32")
            if self.aggregation_type == "max":
                return ops.segment_max(neighbour_representations, segment_ids, num_segments=num_segments)
            raise ValueError(f"Invalid aggregation type: {self.aggregation_type}")

        def compute_nodes_representation(self, features):
            return ops.matmul(features, self.weight)

        def compute_aggregated_messages(self, features):
            neighbour_representations = ops.take(features, np.asarray(self.graph_info.edges[1]), axis=0)
            aggregated_messages = self.aggregate(neighbour_representations)
            return ops.matmul(aggregated_messages, self.weight)

        def update(self, nodes_representation, aggregated_messages):
            if self.combination_type == "concat":
                h = ops.concatenate([nodes_representation, aggregated_messages], axis=-1)
            elif self.combination_type == "add":
                h = nodes_representation + aggregated_messages
            else:
                raise ValueError(f"Invalid combination type: {self.combination_type}.")
            return self.activation(h)

        def call(self, features):
            nodes_representation = self.compute_nodes_representation(features)
            aggregated_messages = self.compute_aggregated_messages(features)
            return self.update(nodes_representation, aggregated_messages)

    class LSTMGC(layers.Layer):
        def __init__(
            self,
            in_feat,
            out_feat,
            lstm_units: int,
            input_seq_len: int,
            output_seq_len: int,
            graph_info: GraphInfo,
            graph_conv_params: typing.Optional[dict] = None,
            **kwargs,
        ):
            super().__init__(**kwargs)

            # graph conv layer
            if graph_conv_params is None:
                graph_conv_params = {
                    "aggregation_type": "mean",
                    "combination_type": "concat",
                    "activation": None,
                }
            self.graph_conv = GraphConv(in_feat, out_feat, graph_info, **graph_conv_params)

            self.lstm = layers.LSTM(lstm_units, activation="relu")
            self.dense = layers.Dense(output_seq_len)

            self.input_seq_len, self.output_seq_len = input_seq_len, output_seq_len

        def call(self, inputs):
            # convert shape to  (num_nodes, batch_size, input_seq_len, in_feat)
            inputs = ops.transpose(inputs, [2, 0, 1, 3])

            gcn_out = self.graph_conv(inputs)  # (num_nodes, batch_size, input_seq_len, out_feat)
            shape = ops.shape(gcn_out)
            num_nodes, batch_size, input_seq_len, out_feat = (
                shape[0],
                shape[1],
                shape[2],
                shape[3],
            )

            # LSTM takes only 3D tensors as input
            gcn_out = ops.reshape(gcn_out, (batch_size * num_nodes, input_seq_len, out_feat))
            lstm_out = self.lstm(gcn_out)  # (batch_size * num_nodes, lstm_units)

            dense_output = self.dense(lstm_out)  # (batch_size * num_nodes, output_seq_len)
            output = ops.reshape(dense_output, (num_nodes, batch_size, self.output_seq_len))
            return ops.transpose(output, [1, 2, 0])  # returns Tensor of shape (batch_size, output_seq_len, num_nodes)

    in_feat = 1
    batch_size = 16
    epochs = 3
    input_sequence_length = 12
    forecast_horizon = 3
    multi_horizon = False
    out_feat = 8
    lstm_units = 16
    graph_conv_params = {
        "aggregation_type": "mean",
        "combination_type": "concat",
        "activation": None,
    }

    st_gcn = LSTMGC(
        in_feat,
        out_feat,
        lstm_units,
        input_sequence_length,
        forecast_horizon,
        graph,
        graph_conv_params,
    )
    inputs = layers.Input((input_sequence_length, graph.num_nodes, in_feat))
    outputs = st_gcn(inputs)

    model = keras.models.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.0002),
        loss=keras.losses.MeanSquaredError(),
    )
    on_model(model)
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        validation_data=(x_val, y_val),
        epochs=epochs,
        callbacks=[keras.callbacks.EarlyStopping(patience=10)],
        verbose=0,
        shuffle=shuffle,
    )

    y_pred = model.predict(x_test, verbose=0)
    assert y_pred.shape == (x_test.shape[0], forecast_horizon, graph.num_nodes)
    history.results = {"test": {"mse": float(np.mean((y_pred[:, 0, :] - y_test[:, 0, :]) ** 2))}}
    return history

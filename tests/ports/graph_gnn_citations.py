"""Port of keras-io `examples/graph/gnn_citations.py` (Node Classification with Graph Neural
Networks, Khalid Salama).

Changed: data (the Cora download read with pandas -> a synthetic graph, seeded: 48 papers with
16 binary word features, 7 subjects, 160 citations; a random half of the papers for training),
hidden_units [32, 32] -> [8, 8], num_epochs 300 -> 4, EarlyStopping patience 50 -> 2,
batch_size 256 -> 16, dropout_rate 0.5 -> 0.0 (so training draws no random numbers and the
parity test compares it with Keras), `verbose=0`, `summary()`, printing and the plots dropped,
the library passed in as `keras`. TensorFlow calls -> `keras.ops`: `tf.gather` -> `ops.take`,
`tf.math.unsorted_segment_sum/max` -> `ops.segment_sum/segment_max(..., num_segments=)`,
`unsorted_segment_mean` -> their quotient with `ops.segment_sum` of ones, `tf.expand_dims`,
`tf.stack`, `tf.concat`, `tf.unstack`, `tf.ones`, `tf.cast`, `tf.math.reduce_sum` ->
`ops.*`, `tf.nn.l2_normalize` -> `ops.normalize`, `tf.nn.gelu` -> `keras.activations.gelu`,
`tf.keras.Model` -> `keras.Model`. The FFN blocks, baseline model (five blocks with `Add` skip
connections), `GraphConvLayer`, `GNNNodeClassifier` (a subclassed Model holding the graph as
plain attributes, called on an array of node indices: Keras 3 refuses the example's Python
list `gnn_model([1, 10, 100])` ("Only input tensors may be passed as positional arguments")), `run_experiment` (compile with
`from_logits` loss and a named accuracy, EarlyStopping on "val_acc" with
`restore_best_weights=True`, `validation_split=0.15`), the evaluations and the predictions after
new nodes and edges are assigned to the model's attributes are the example's. The evaluations
and predictions are kept in `History.results` for the parity test.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the GNN's History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    num_papers, num_features, num_classes = 48, 16, 7
    paper_features = (rng.random((num_papers, num_features)) < 0.3).astype("int64")
    subjects = rng.integers(0, num_classes, size=(num_papers,))
    citations = rng.integers(0, num_papers, size=(160, 2))
    random_selection = rng.random(num_papers) <= 0.5
    train_ids = rng.permutation(np.flatnonzero(random_selection))
    test_ids = rng.permutation(np.flatnonzero(~random_selection))

    hidden_units = [8, 8]
    learning_rate = 0.01
    dropout_rate = 0.0
    num_epochs = 4
    batch_size = 16

    def run_experiment(model, x_train, y_train):
        # Compile the model.
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
        )
        # Create an early stopping callback.
        early_stopping = keras.callbacks.EarlyStopping(monitor="val_acc", patience=2, restore_best_weights=True)
        on_model(model)
        # Fit the model.
        history = model.fit(
            x=x_train,
            y=y_train,
            epochs=num_epochs,
            batch_size=batch_size,
            validation_split=0.15,
            callbacks=[early_stopping],
            verbose=0,
            shuffle=shuffle,
        )

        return history

    def create_ffn(hidden_units, dropout_rate, name=None):
        fnn_layers = []

        for units in hidden_units:
            fnn_layers.append(layers.BatchNormalization())
            fnn_layers.append(layers.Dropout(dropout_rate))
            fnn_layers.append(layers.Dense(units, activation=keras.activations.gelu))

        return keras.Sequential(fnn_layers, name=name)

    x_train = paper_features[train_ids]
    x_test = paper_features[test_ids]
    y_train = subjects[train_ids]
    y_test = subjects[test_ids]

    def create_baseline_model(hidden_units, num_classes, dropout_rate=0.2):
        inputs = layers.Input(shape=(num_features,), name="input_features")
        x = create_ffn(hidden_units, dropout_rate, name="ffn_block1")(inputs)
        for block_idx in range(4):
            # Create an FFN block.
            x1 = create_ffn(hidden_units, dropout_rate, name=f"ffn_block{block_idx + 2}")(x)
            # Add skip connection.
            x = layers.Add(name=f"skip_connection{block_idx + 2}")([x, x1])
        # Compute logits.
        logits = layers.Dense(num_classes, name="logits")(x)
        # Create the model.
        return keras.Model(inputs=inputs, outputs=logits, name="baseline")

    baseline_model = create_baseline_model(hidden_units, num_classes, dropout_rate)
    results["baseline"] = run_experiment(baseline_model, x_train, y_train).history
    _, test_accuracy = baseline_model.evaluate(x=x_test, y=y_test, verbose=0)
    results["baseline_test"] = {"acc": [test_accuracy]}

    new_instances = (rng.random((num_classes, num_features)) <= x_train.mean(axis=0)).astype(int)
    logits = baseline_model.predict(new_instances, verbose=0)
    probabilities = ops.convert_to_numpy(keras.activations.softmax(ops.convert_to_tensor(logits)))
    results["baseline_new"] = {"probabilities": probabilities.ravel().tolist()}

    # Create an edges array (sparse adjacency matrix) of shape [2, num_edges].
    edges = citations.T
    # Create an edge weights array of ones.
    edge_weights = ops.ones(shape=edges.shape[1])
    # Create a node features array of shape [num_nodes, num_features].
    node_features = ops.cast(paper_features, dtype="float32")
    # Create graph info tuple with node_features, edges, and edge_weights.
    graph_info = (node_features, edges, edge_weights)

    class GraphConvLayer(layers.Layer):
        def __init__(self, hidden_units, dropout_rate=0.2, aggregation_type="mean",
                     combination_type="concat", normalize=False, *args, **kwargs):
            super().__init__(*args, **kwargs)

            self.aggregation_type = aggregation_type
            self.combination_type = combination_type
            self.normalize = normalize

            self.ffn_prepare = create_ffn(hidden_units, dropout_rate)
            if self.combination_type == "gated":
                self.update_fn = layers.GRU(
                    units=hidden_units,
                    activation="tanh",
                    recurrent_activation="sigmoid",
                    dropout=dropout_rate,
                    return_state=True,
                    recurrent_dropout=dropout_rate,
                )
            else:
                self.update_fn = create_ffn(hidden_units, dropout_rate)

        def prepare(self, node_repesentations, weights=None):
            # node_repesentations shape is [num_edges, embedding_dim].
            messages = self.ffn_prepare(node_repesentations)
            if weights is not None:
                messages = messages * ops.expand_dims(weights, -1)
            return messages

        def aggregate(self, node_indices, neighbour_messages, node_repesentations):
            # node_indices shape is [num_edges].
            # neighbour_messages shape: [num_edges, representation_dim].
            # node_repesentations shape is [num_nodes, representation_dim]
            num_nodes = node_repesentations.shape[0]
            if self.aggregation_type == "sum":
                aggregated_message = ops.segment_sum(neighbour_messages, node_indices, num_segments=num_nodes)
            elif self.aggregation_type == "mean":
                counts = ops.segment_sum(ops.ones_like(neighbour_messages), node_indices, num_segments=num_nodes)
                aggregated_message = ops.segment_sum(neighbour_messages, node_indices,
                                                     num_segments=num_nodes) / ops.maximum(counts, 1)
            elif self.aggregation_type == "max":
                aggregated_message = ops.segment_max(neighbour_messages, node_indices, num_segments=num_nodes)
            else:
                raise ValueError(f"Invalid aggregation type: {self.aggregation_type}.")

            return aggregated_message

        def update(self, node_repesentations, aggregated_messages):
            # node_repesentations shape is [num_nodes, representation_dim].
            # aggregated_messages shape is [num_nodes, representation_dim].
            if self.combination_type == "gru":
                # Create a sequence of two elements for the GRU layer.
                h = ops.stack([node_repesentations, aggregated_messages], axis=1)
            elif self.combination_type == "concat":
                # Concatenate the node_repesentations and aggregated_messages.
                h = ops.concatenate([node_repesentations, aggregated_messages], axis=1)
            elif self.combination_type == "add":
                # Add node_repesentations and aggregated_messages.
                h = node_repesentations + aggregated_messages
            else:
                raise ValueError(f"Invalid combination type: {self.combination_type}.")

            # Apply the processing function.
            node_embeddings = self.update_fn(h)
            if self.combination_type == "gru":
                node_embeddings = ops.unstack(node_embeddings, axis=1)[-1]

            if self.normalize:
                node_embeddings = ops.normalize(node_embeddings, axis=-1)
            return node_embeddings

        def call(self, inputs):
            node_repesentations, edges, edge_weights = inputs
            # Get node_indices (source) and neighbour_indices (target) from edges.
            node_indices, neighbour_indices = edges[0], edges[1]
            # neighbour_repesentations shape is [num_edges, representation_dim].
            neighbour_repesentations = ops.take(node_repesentations, neighbour_indices, axis=0)

            # Prepare the messages of the neighbours.
            neighbour_messages = self.prepare(neighbour_repesentations, edge_weights)
            # Aggregate the neighbour messages.
            aggregated_messages = self.aggregate(node_indices, neighbour_messages, node_repesentations)
            # Update the node embedding with the neighbour messages.
            return self.update(node_repesentations, aggregated_messages)

    class GNNNodeClassifier(keras.Model):
        def __init__(self, graph_info, num_classes, hidden_units, aggregation_type="sum",
                     combination_type="concat", dropout_rate=0.2, normalize=True, *args, **kwargs):
            super().__init__(*args, **kwargs)

            # Unpack graph_info to three elements: node_features, edges, and edge_weight.
            node_features, edges, edge_weights = graph_info
            self.node_features = node_features
            self.edges = edges
            self.edge_weights = edge_weights
            # Set edge_weights to ones if not provided.
            if self.edge_weights is None:
                self.edge_weights = ops.ones(shape=edges.shape[1])
            # Scale edge_weights to sum to 1.
            self.edge_weights = self.edge_weights / ops.sum(self.edge_weights)

            # Create a process layer.
            self.preprocess = create_ffn(hidden_units, dropout_rate, name="preprocess")
            # Create the first GraphConv layer.
            self.conv1 = GraphConvLayer(hidden_units, dropout_rate, aggregation_type, combination_type,
                                        normalize, name="graph_conv1")
            # Create the second GraphConv layer.
            self.conv2 = GraphConvLayer(hidden_units, dropout_rate, aggregation_type, combination_type,
                                        normalize, name="graph_conv2")
            # Create a postprocess layer.
            self.postprocess = create_ffn(hidden_units, dropout_rate, name="postprocess")
            # Create a compute logits layer.
            self.compute_logits = layers.Dense(units=num_classes, name="logits")

        def call(self, input_node_indices):
            # Preprocess the node_features to produce node representations.
            x = self.preprocess(self.node_features)
            # Apply the first graph conv layer.
            x1 = self.conv1((x, self.edges, self.edge_weights))
            # Skip connection.
            x = x1 + x
            # Apply the second graph conv layer.
            x2 = self.conv2((x, self.edges, self.edge_weights))
            # Skip connection.
            x = x2 + x
            # Postprocess node embedding.
            x = self.postprocess(x)
            # Fetch node embeddings for the input node_indices.
            node_embeddings = ops.take(x, input_node_indices, axis=0)
            # Compute logits
            return self.compute_logits(node_embeddings)

    gnn_model = GNNNodeClassifier(
        graph_info=graph_info,
        num_classes=num_classes,
        hidden_units=hidden_units,
        dropout_rate=dropout_rate,
        name="gnn_model",
    )

    output = gnn_model(np.array([1, 10, 40]))
    assert tuple(output.shape) == (3, num_classes), output.shape

    x_train = train_ids
    history = run_experiment(gnn_model, x_train, y_train)

    x_test = test_ids
    _, test_accuracy = gnn_model.evaluate(x=x_test, y=y_test, verbose=0)
    results["gnn_test"] = {"acc": [test_accuracy]}

    # First we add the N new_instances as nodes to the graph
    # by appending the new_instance to node_features.
    num_nodes = node_features.shape[0]
    new_node_features = np.concatenate([ops.convert_to_numpy(node_features), new_instances])
    # Second we add the M edges (citations) from each new node to a set
    # of existing nodes in a particular subject
    new_node_indices = [i + num_nodes for i in range(num_classes)]
    new_citations = []
    for subject_idx in range(num_classes):
        subject_papers = list(np.flatnonzero(subjects == subject_idx))
        # Select random x papers specific subject.
        selected_paper_indices1 = rng.choice(subject_papers, 5)
        # Select random y papers from any subject (where y < x).
        selected_paper_indices2 = rng.choice(num_papers, 2)
        # Merge the selected paper indices.
        selected_paper_indices = np.concatenate([selected_paper_indices1, selected_paper_indices2], axis=0)
        # Create edges between a citing paper idx and the selected cited papers.
        citing_paper_indx = new_node_indices[subject_idx]
        for cited_paper_idx in selected_paper_indices:
            new_citations.append([citing_paper_indx, cited_paper_idx])

    new_citations = np.array(new_citations).T
    new_edges = np.concatenate([edges, new_citations], axis=1)

    gnn_model.node_features = new_node_features
    gnn_model.edges = new_edges
    gnn_model.edge_weights = ops.ones(shape=new_edges.shape[1])

    logits = gnn_model.predict(ops.convert_to_tensor(new_node_indices), verbose=0)
    probabilities = ops.convert_to_numpy(keras.activations.softmax(ops.convert_to_tensor(logits)))
    assert probabilities.shape == (num_classes, num_classes), probabilities.shape
    results["gnn_new"] = {"probabilities": probabilities.ravel().tolist()}
    history.results = results
    return history

"""Port of keras-io `examples/graph/gat_node_classification.py` (Graph attention network (GAT)
for node classification, akensert; the Keras 3 edition).

Changed: data (the Cora download read with pandas -> a synthetic graph, seeded: 64 papers with
24 binary word features, 7 subjects, 256 citations, split in halves by
`np.random.permutation` as in the example), HIDDEN_UNITS 100 -> 8, NUM_HEADS 8 -> 4,
epochs 100 -> 4, batch_size 256 -> 8, `verbose=2` -> 0, EarlyStopping patience 5 -> 2, the
prints of the probabilities dropped (the probabilities are kept), the library passed in as
`keras`. Kept: `keras.utils.set_random_seed(2)` at the start, `GraphAttention` (`add_weight`
with a kernel initializer and regularizer from `keras.initializers.get` /
`keras.regularizers.get`, `ops.take`, `ops.leaky_relu`, `ops.clip`, `ops.exp`,
`ops.segment_sum` with `num_segments`), `MultiHeadGraphAttention` (concat merge), the
subclassed `GraphAttentionNetwork` holding the graph tensors as attributes and called on node
indices, compile with SGD(momentum=0.9) and a `from_logits` loss, EarlyStopping on
"val_accuracy" with `restore_best_weights=True`, `validation_split=0.1`, evaluate, predict and
`ops.softmax` of the logits. The evaluations and probabilities are kept in `History.results`.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    results = {}

    keras.utils.set_random_seed(2)

    data_rng = np.random.default_rng(0)
    num_papers, num_terms, num_classes = 64, 24, 7
    terms = (data_rng.random((num_papers, num_terms)) < 0.3).astype("float32")
    subjects = data_rng.integers(0, num_classes, size=(num_papers,))
    citations = data_rng.integers(0, num_papers, size=(256, 2))  # columns: target, source
    class_values = list(range(num_classes))

    # Obtain random indices
    random_indices = np.random.permutation(range(num_papers))

    # 50/50 split
    train_ids = random_indices[: len(random_indices) // 2]
    test_ids = random_indices[len(random_indices) // 2 :]

    # Obtain paper indices which will be used to gather node states
    # from the graph later on when training the model
    train_indices = train_ids
    test_indices = test_ids

    # Obtain ground truth labels corresponding to each paper_id
    train_labels = subjects[train_ids]
    test_labels = subjects[test_ids]

    # Define graph, namely an edge tensor and a node feature tensor
    edges = ops.convert_to_tensor(citations, dtype="int32")
    node_states = ops.convert_to_tensor(terms, dtype="float32")

    class GraphAttention(layers.Layer):
        def __init__(
            self,
            units,
            kernel_initializer="glorot_uniform",
            kernel_regularizer=None,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.units = units
            self.kernel_initializer = keras.initializers.get(kernel_initializer)
            self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

        def build(self, input_shape):
            self.kernel = self.add_weight(
                shape=(input_shape[0][-1], self.units),
                trainable=True,
                initializer=self.kernel_initializer,
                regularizer=self.kernel_regularizer,
                name="kernel",
            )
            self.kernel_attention = self.add_weight(
                shape=(self.units * 2, 1),
                trainable=True,
                initializer=self.kernel_initializer,
                regularizer=self.kernel_regularizer,
                name="kernel_attention",
            )
            self.built = True

        def call(self, inputs):
            node_states, edges = inputs

            z = ops.matmul(node_states, self.kernel)

            source_indices = edges[:, 1]
            target_indices = edges[:, 0]

            z_target = ops.take(z, target_indices, axis=0)
            z_source = ops.take(z, source_indices, axis=0)

            z_concat = ops.concatenate([z_target, z_source], axis=-1)
            attention_scores = ops.leaky_relu(ops.matmul(z_concat, self.kernel_attention))
            attention_scores = ops.squeeze(attention_scores, -1)

            attention_scores = ops.exp(ops.clip(attention_scores, -2, 2))

            num_nodes = ops.shape(node_states)[0]
            attention_sum = ops.segment_sum(attention_scores, target_indices, num_segments=num_nodes)

            # Broadcast sum back to edges to normalize
            attention_sum_per_edge = ops.take(attention_sum, target_indices, axis=0)
            attention_norm = attention_scores / (attention_sum_per_edge + 1e-8)

            node_states_neighbors = ops.take(z, source_indices, axis=0)
            weighted_neighbors = node_states_neighbors * ops.expand_dims(attention_norm, axis=-1)

            return ops.segment_sum(weighted_neighbors, target_indices, num_segments=num_nodes)

    class MultiHeadGraphAttention(layers.Layer):
        def __init__(self, units, num_heads=8, merge_type="concat", **kwargs):
            super().__init__(**kwargs)
            self.num_heads = num_heads
            self.merge_type = merge_type
            self.attention_layers = [GraphAttention(units) for _ in range(num_heads)]

        def call(self, inputs):
            node_states, edges = inputs
            outputs = [layer([node_states, edges]) for layer in self.attention_layers]

            if self.merge_type == "concat":
                outputs = ops.concatenate(outputs, axis=-1)
            else:
                outputs = ops.mean(ops.stack(outputs, axis=0), axis=0)

            return ops.relu(outputs)

    class GraphAttentionNetwork(keras.Model):
        def __init__(
            self,
            node_states,
            edges,
            hidden_units,
            num_heads,
            num_layers,
            output_dim,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.node_states = node_states
            self.edges = edges
            self.preprocess = layers.Dense(hidden_units * num_heads, activation="relu")
            self.attention_layers = [MultiHeadGraphAttention(hidden_units, num_heads) for _ in range(num_layers)]
            self.output_layer = layers.Dense(output_dim)

        def call(self, inputs, training=False):
            # inputs here are the indices of nodes we want predictions for
            indices = inputs

            x = self.preprocess(self.node_states)
            for attention_layer in self.attention_layers:
                x = attention_layer([x, self.edges]) + x

            # Return only the requested node states
            outputs = self.output_layer(x)
            return ops.take(outputs, indices, axis=0)

    HIDDEN_UNITS = 8
    NUM_HEADS = 4
    NUM_LAYERS = 3
    OUTPUT_DIM = len(class_values)

    # Build and compile model
    gat_model = GraphAttentionNetwork(node_states, edges, HIDDEN_UNITS, NUM_HEADS, NUM_LAYERS, OUTPUT_DIM)

    gat_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.SGD(learning_rate=0.003, momentum=0.9),
        metrics=["accuracy"],
    )
    gat_model(train_indices[:1])  # built before the initial weights are recorded (the parity test)
    on_model(gat_model)

    history = gat_model.fit(
        x=train_indices,
        y=train_labels,
        validation_split=0.1,
        batch_size=8,
        epochs=4,
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)],
        verbose=0,
        shuffle=shuffle,
    )
    test_loss, test_accuracy = gat_model.evaluate(x=test_indices, y=test_labels, verbose=0)
    results["test"] = {"loss": test_loss, "accuracy": test_accuracy}

    test_logits = gat_model.predict(x=test_indices, verbose=0)
    test_probs = ops.softmax(test_logits)
    test_probs_np = ops.convert_to_numpy(test_probs)
    assert test_probs_np.shape == (len(test_indices), num_classes)
    np.testing.assert_allclose(test_probs_np.sum(axis=-1), 1.0, rtol=1e-5)
    results["predict"] = {"probs": test_probs_np}
    history.results = results
    return history

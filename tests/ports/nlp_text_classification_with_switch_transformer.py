"""Port of keras-io `examples/nlp/text_classification_with_switch_transformer.py` (Text
classification with Switch Transformer, Khalid Salama, Keras 3 edition).

Changed: data (`keras.datasets.imdb.load_data` + `pad_sequences` -> synthetic token ids
(n, 20) whose label decides which half of the vocabulary dominates, seeded, n=60 / 20),
vocab_size 20000 -> 100, num_tokens_per_example 200 -> 20, embed_dim 32 -> 8, ff_dim 32 -> 8,
num_experts 10 -> 4, batch_size 50 -> 10, num_epochs 3 -> 2, `verbose=0`, the library passed
in as `keras`. tf.* calls -> their `keras.ops` equivalents (`ops.top_k`, `ops.one_hot`,
`ops.cumsum`, `ops.einsum`, `ops.unstack`, `ops.stack`, `keras.random.uniform`) as the Keras 3
edition has them, and `super().__init__()` first in Router and Switch (assigning a sublayer
before it fails on the torch backend, in Keras 3 too), and Switch's first reshape to
`[-1, embed_dim]` instead of `[num_tokens_per_batch, embed_dim]` (a fixed size cannot be traced
with an unknown batch on the torch backend: Keras 3 fails to build the model there too; the
batches here are all `batch_size` long, so the computation is the example's). TokenAndPositionEmbedding, the expert
feedforward networks, the load-balancing loss added with `add_loss` inside the router (whose
jitter noise depends on `training`), Switch (fixed tokens-per-batch reshape, capacity
dispatch/combine tensors), TransformerBlock, the classifier and `run_experiment` are the
example's. On Keras 3.15.1 (torch backend) the port fails in the router: its positions run 1..capacity,
and `ops.one_hot` there raises on the out-of-range class (`Class values must be smaller than
num_classes`) where TensorFlow and JAX give a zero row (the example's intent; keraslike's
`one_hot` gives zeros, documented). So it is checked under keraslike only.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the classifier before it trains (the parity test copies
    Keras's initial weights in and compares `evaluate` there); `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    vocab_size = 100  # Only consider the top 20k words
    num_tokens_per_example = 20  # Only consider the first 200 words of each movie review

    def reviews(n):
        labels = rng.integers(0, 2, size=n)
        ids = 1 + labels[:, None] * 49 + rng.integers(0, 49, size=(n, num_tokens_per_example))
        return ids.astype("int64"), labels

    x_train, y_train = reviews(60)
    x_val, y_val = reviews(20)

    embed_dim = 8  # Embedding size for each token.
    num_heads = 2  # Number of attention heads
    ff_dim = 8  # Hidden layer size in feedforward network.
    num_experts = 4  # Number of experts used in the Switch Transformer.
    batch_size = 10  # Batch size.
    learning_rate = 0.001  # Learning rate.
    dropout_rate = 0.25  # Dropout rate.
    num_epochs = 2  # Number of epochs.
    num_tokens_per_batch = batch_size * num_tokens_per_example  # Total number of tokens per batch.

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    def create_feedforward_network(ff_dim, name=None):
        return keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(ff_dim)], name=name)

    def load_balanced_loss(router_probs, expert_mask):
        # router_probs [tokens_per_batch, num_experts] is the probability assigned for
        # each expert per token. expert_mask [tokens_per_batch, num_experts] contains
        # the expert with the highest router probability in one−hot format.

        num_experts = ops.shape(expert_mask)[-1]
        # Get the fraction of tokens routed to each expert.
        # density is a vector of length num experts that sums to 1.
        density = ops.mean(expert_mask, axis=0)
        # Get fraction of probability mass assigned to each expert from the router
        # across all tokens. density_proxy is a vector of length num experts that sums to 1.
        density_proxy = ops.mean(router_probs, axis=0)
        # Want both vectors to have uniform allocation (1/num experts) across all
        # num_expert elements. The two vectors will be pushed towards uniform allocation
        # when the dot product is minimized.
        loss = ops.mean(density_proxy * density) * ops.cast((num_experts**2), "float32")
        return loss

    class Router(layers.Layer):
        def __init__(self, num_experts, expert_capacity):
            super().__init__()
            self.num_experts = num_experts
            self.route = layers.Dense(units=num_experts)
            self.expert_capacity = expert_capacity

        def call(self, inputs, training=False):
            # inputs shape: [tokens_per_batch, embed_dim]
            # router_logits shape: [tokens_per_batch, num_experts]
            router_logits = self.route(inputs)

            if training:
                # Add noise for exploration across experts.
                router_logits += keras.random.uniform(shape=router_logits.shape, minval=0.9, maxval=1.1)
            # Probabilities for each token of what expert it should be sent to.
            router_probs = keras.activations.softmax(router_logits, axis=-1)
            # Get the top−1 expert for each token. expert_gate is the top−1 probability
            # from the router for each token. expert_index is what expert each token
            # is going to be routed to.
            expert_gate, expert_index = ops.top_k(router_probs, k=1)
            # expert_mask shape: [tokens_per_batch, num_experts]
            expert_mask = ops.one_hot(expert_index, self.num_experts)
            # Compute load balancing loss.
            aux_loss = load_balanced_loss(router_probs, expert_mask)
            self.add_loss(aux_loss)
            # Experts have a fixed capacity, ensure we do not exceed it. Construct
            # the batch indices, to each expert, with position in expert make sure that
            # not more that expert capacity examples can be routed to each expert.
            position_in_expert = ops.cast(ops.cumsum(expert_mask, axis=0) * expert_mask, "int32")
            # Keep only tokens that fit within expert capacity.
            expert_mask *= ops.cast(
                ops.less(ops.cast(position_in_expert, "int32"), self.expert_capacity),
                "float32",
            )
            expert_mask_flat = ops.sum(expert_mask, axis=-1)
            # Mask out the experts that have overflowed the expert capacity.
            expert_gate *= expert_mask_flat
            # Combine expert outputs and scaling with router probability.
            # combine_tensor shape: [tokens_per_batch, num_experts, expert_capacity]
            combined_tensor = ops.expand_dims(
                expert_gate * expert_mask_flat * ops.squeeze(ops.one_hot(expert_index, self.num_experts), 1),
                -1,
            ) * ops.squeeze(ops.one_hot(position_in_expert, self.expert_capacity), 1)
            # Create binary dispatch_tensor [tokens_per_batch, num_experts, expert_capacity]
            # that is 1 if the token gets routed to the corresponding expert.
            dispatch_tensor = ops.cast(combined_tensor, "float32")

            return dispatch_tensor, combined_tensor

    class Switch(layers.Layer):
        def __init__(self, num_experts, embed_dim, num_tokens_per_batch, capacity_factor=1):
            super().__init__()
            self.num_experts = num_experts
            self.embed_dim = embed_dim
            self.experts = [create_feedforward_network(embed_dim) for _ in range(num_experts)]

            self.expert_capacity = num_tokens_per_batch // self.num_experts
            self.router = Router(self.num_experts, self.expert_capacity)

        def call(self, inputs):
            batch_size = ops.shape(inputs)[0]
            num_tokens_per_example = ops.shape(inputs)[1]

            # inputs shape: [num_tokens_per_batch, embed_dim]
            inputs = ops.reshape(inputs, [-1, self.embed_dim])
            # dispatch_tensor shape: [expert_capacity, num_experts, tokens_per_batch]
            # combine_tensor shape: [tokens_per_batch, num_experts, expert_capacity]
            dispatch_tensor, combine_tensor = self.router(inputs)
            # expert_inputs shape: [num_experts, expert_capacity, embed_dim]
            expert_inputs = ops.einsum("ab,acd->cdb", inputs, dispatch_tensor)
            expert_inputs = ops.reshape(expert_inputs, [self.num_experts, self.expert_capacity, self.embed_dim])
            # Dispatch to experts
            expert_input_list = ops.unstack(expert_inputs, axis=0)
            expert_output_list = [
                self.experts[idx](expert_input) for idx, expert_input in enumerate(expert_input_list)
            ]
            # expert_outputs shape: [expert_capacity, num_experts, embed_dim]
            expert_outputs = ops.stack(expert_output_list, axis=1)
            # expert_outputs_combined shape: [tokens_per_batch, embed_dim]
            expert_outputs_combined = ops.einsum("abc,xba->xc", expert_outputs, combine_tensor)
            # output shape: [batch_size, num_tokens_per_example, embed_dim]
            outputs = ops.reshape(expert_outputs_combined, [batch_size, num_tokens_per_example, self.embed_dim])
            return outputs

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ffn, dropout_rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            # The ffn can be either a standard feedforward network or a switch
            # layer with a Mixture of Experts.
            self.ffn = ffn
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(dropout_rate)
            self.dropout2 = layers.Dropout(dropout_rate)

        def call(self, inputs, training=False):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output, training=training)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output, training=training)
            return self.layernorm2(out1 + ffn_output)

    def create_classifier():
        switch = Switch(num_experts, embed_dim, num_tokens_per_batch)
        transformer_block = TransformerBlock(ff_dim, num_heads, switch)

        inputs = layers.Input(shape=(num_tokens_per_example,))
        embedding_layer = TokenAndPositionEmbedding(num_tokens_per_example, vocab_size, embed_dim)
        x = embedding_layer(inputs)
        x = transformer_block(x)
        x = layers.GlobalAveragePooling1D()(x)
        x = layers.Dropout(dropout_rate)(x)
        x = layers.Dense(ff_dim, activation="relu")(x)
        x = layers.Dropout(dropout_rate)(x)
        outputs = layers.Dense(2, activation="softmax")(x)

        classifier = keras.Model(inputs=inputs, outputs=outputs)
        return classifier

    results = {}

    def run_experiment(classifier):
        classifier.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        if on_model:
            on_model(classifier)
            results["evaluate_before"] = classifier.evaluate(
                x_val, y_val, batch_size=batch_size, verbose=0, return_dict=True)
        history = classifier.fit(
            x_train,
            y_train,
            batch_size=batch_size,
            epochs=num_epochs,
            validation_data=(x_val, y_val),
            shuffle=shuffle,
            verbose=0,
        )
        return history

    classifier = create_classifier()
    history = run_experiment(classifier)
    history.results = results
    return history

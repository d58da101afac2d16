"""Port of keras-io `examples/keras_recipes/memory_efficient_embeddings.py` (Khalid Salama).

Changed: data (the MovieLens 1M download -> seeded synthetic integer user / movie ids with
ratings 1-5, 600 ratings of 60 users and 80 movies, movies drawn with skewed popularity), sizes
(base_embedding_dim 64 -> 16, user buckets len // 50 -> len // 6, movie blocks 400 / 1700 -> 10 /
40 with dims 16 / 8 / 4), epochs 3 -> 2, batch size 128 -> 64, the library passed in as `keras`.
Strings -> integer ids: Keras 3's `StringLookup` needs TensorFlow, so each vocabulary lookup
(`StringLookup(vocabulary=..., num_oov_indices=...)` and the movie-to-block
`tf.lookup.StaticHashTable`) is a fixed index table applied with `keras.ops.take`
(out-of-vocabulary ids to 0 as StringLookup's OOV index); `tf.math.floordiv` / `floormod` ->
`keras.ops.floor_divide` / `keras.ops.mod`, `tf.zeros` / `tf.expand_dims` / `tf.cast` ->
`keras.ops`. Kept: `embedding_encoder` (a Sequential of the lookup and an Embedding), the
baseline model (Dot similarity, `keras.activations.sigmoid(logits) * 5`), `QREmbedding`,
`MDEmbedding` (per-block encoders, identity `Lambda` or Dense projectors, block masks),
`run_experiment` (Adam, MeanSquaredError, a MeanAbsoluteError named "mae", fit with
`validation_data`). The baseline's History is kept in `History.results`.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the memory-efficient
    model's History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    num_users, num_movies, num_ratings = 60, 80, 600
    user_ids = rng.integers(1, num_users + 1, size=num_ratings)
    movie_ids = np.minimum(rng.zipf(1.3, size=num_ratings), num_movies)
    ratings = rng.integers(1, 6, size=num_ratings).astype("float32")
    random_selection = rng.random(num_ratings) <= 0.85
    train_data = (user_ids[random_selection], movie_ids[random_selection], ratings[random_selection])
    eval_data = (user_ids[~random_selection], movie_ids[~random_selection], ratings[~random_selection])

    user_vocabulary = list(np.unique(user_ids))
    movie_vocabulary = list(np.unique(movie_ids))
    learning_rate = 0.001
    batch_size = 64
    num_epochs = 2
    base_embedding_dim = 16

    class Lookup(layers.Layer):
        """The fixed `vocabulary -> index` table a StringLookup makes (OOV ids -> 0)."""

        def __init__(self, vocabulary, num_oov_indices=0, **kwargs):
            super().__init__(**kwargs)
            table = np.zeros(max(max(user_ids), max(movie_ids)) + 1, dtype="int32")
            table[np.asarray(vocabulary)] = np.arange(len(vocabulary)) + num_oov_indices
            self.table = table

        def call(self, inputs):
            return ops.take(self.table, ops.cast(inputs, "int32"), axis=0)

    def run_experiment(model):
        # Compile the model.
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=keras.losses.MeanSquaredError(),
            metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
        )
        on_model(model)
        # Fit the model with the training data.
        history = model.fit(
            {"user_id": train_data[0], "movie_id": train_data[1]},
            train_data[2],
            batch_size=batch_size,
            epochs=num_epochs,
            validation_data=({"user_id": eval_data[0], "movie_id": eval_data[1]}, eval_data[2]),
            verbose=0,
            shuffle=shuffle,
        )
        return history

    def embedding_encoder(vocabulary, embedding_dim, num_oov_indices=0, name=None):
        return keras.Sequential(
            [
                Lookup(vocabulary=vocabulary, num_oov_indices=num_oov_indices),
                layers.Embedding(
                    input_dim=len(vocabulary) + num_oov_indices, output_dim=embedding_dim
                ),
            ],
            name=f"{name}_embedding" if name else None,
        )

    def create_baseline_model():
        # Receive the user as an input.
        user_input = layers.Input(name="user_id", shape=(), dtype="int32")
        # Get user embedding.
        user_embedding = embedding_encoder(
            vocabulary=user_vocabulary, embedding_dim=base_embedding_dim, name="user"
        )(user_input)

        # Receive the movie as an input.
        movie_input = layers.Input(name="movie_id", shape=(), dtype="int32")
        # Get embedding.
        movie_embedding = embedding_encoder(
            vocabulary=movie_vocabulary, embedding_dim=base_embedding_dim, name="movie"
        )(movie_input)

        # Compute dot product similarity between user and movie embeddings.
        logits = layers.Dot(axes=1, name="dot_similarity")([user_embedding, movie_embedding])
        # Convert to rating scale.
        prediction = keras.activations.sigmoid(logits) * 5
        # Create the model.
        model = keras.Model(
            inputs=[user_input, movie_input], outputs=prediction, name="baseline_model"
        )
        return model

    baseline_model = create_baseline_model()
    assert baseline_model.count_params() == (len(user_vocabulary) + len(movie_vocabulary)) * base_embedding_dim
    baseline_history = run_experiment(baseline_model)

    class QREmbedding(keras.layers.Layer):
        def __init__(self, vocabulary, embedding_dim, num_buckets, name=None):
            super().__init__(name=name)
            self.num_buckets = num_buckets

            self.index_lookup = Lookup(vocabulary=vocabulary, num_oov_indices=0)
            self.q_embeddings = layers.Embedding(num_buckets, embedding_dim)
            self.r_embeddings = layers.Embedding(num_buckets, embedding_dim)

        def call(self, inputs):
            # Get the item index.
            embedding_index = self.index_lookup(inputs)
            # Get the quotient index.
            quotient_index = ops.floor_divide(embedding_index, self.num_buckets)
            # Get the reminder index.
            remainder_index = ops.mod(embedding_index, self.num_buckets)
            # Lookup the quotient_embedding using the quotient_index.
            quotient_embedding = self.q_embeddings(quotient_index)
            # Lookup the remainder_embedding using the remainder_index.
            remainder_embedding = self.r_embeddings(remainder_index)
            # Use multiplication as a combiner operation
            return quotient_embedding * remainder_embedding

    class MDEmbedding(keras.layers.Layer):
        def __init__(self, blocks_vocabulary, blocks_embedding_dims, base_embedding_dim, name=None):
            super().__init__(name=name)
            self.num_blocks = len(blocks_vocabulary)

            # Create vocab to block lookup.
            keys = []
            values = []
            for block_idx, block_vocab in enumerate(blocks_vocabulary):
                keys.extend(block_vocab)
                values.extend([block_idx] * len(block_vocab))
            table = np.full(max(keys) + 1, -1, dtype="int32")
            table[np.asarray(keys)] = values
            self.vocab_to_block = table

            self.block_embedding_encoders = []
            self.block_embedding_projectors = []

            # Create block embedding encoders and projectors.
            for idx in range(self.num_blocks):
                vocabulary = blocks_vocabulary[idx]
                embedding_dim = blocks_embedding_dims[idx]
                block_embedding_encoder = embedding_encoder(vocabulary, embedding_dim, num_oov_indices=1)
                self.block_embedding_encoders.append(block_embedding_encoder)
                if embedding_dim == base_embedding_dim:
                    self.block_embedding_projectors.append(layers.Lambda(lambda x: x))
                else:
                    self.block_embedding_projectors.append(layers.Dense(units=base_embedding_dim))

        def call(self, inputs):
            # Get block index for each input item.
            block_indicies = ops.take(self.vocab_to_block, ops.cast(inputs, "int32"), axis=0)
            # Initialize output embeddings to zeros.
            embeddings = ops.zeros(shape=(ops.shape(inputs)[0], base_embedding_dim))
            # Generate embeddings from blocks.
            for idx in range(self.num_blocks):
                # Lookup embeddings from the current block.
                block_embeddings = self.block_embedding_encoders[idx](inputs)
                # Project embeddings to base_embedding_dim.
                block_embeddings = self.block_embedding_projectors[idx](block_embeddings)
                # Create a mask to filter out embeddings of items that do not belong to the current block.
                mask = ops.expand_dims(ops.cast(block_indicies == idx, "float32"), 1)
                # Set the embeddings for the items not belonging to the current block to zeros.
                block_embeddings = block_embeddings * mask
                # Add the block embeddings to the final embeddings.
                embeddings += block_embeddings

            return embeddings

    values, counts = np.unique(movie_ids, return_counts=True)
    sorted_movie_vocabulary = list(values[np.argsort(-counts, kind="stable")])

    movie_blocks_vocabulary = [
        sorted_movie_vocabulary[:10],  # high popularity movies block
        sorted_movie_vocabulary[10:40],  # normal popularity movies block
        sorted_movie_vocabulary[40:],  # low popularity movies block
    ]

    movie_blocks_embedding_dims = [16, 8, 4]

    user_embedding_num_buckets = len(user_vocabulary) // 6

    def create_memory_efficient_model():
        # Take the user as an input.
        user_input = layers.Input(name="user_id", shape=(), dtype="int32")
        # Get user embedding.
        user_embedding = QREmbedding(
            vocabulary=user_vocabulary,
            embedding_dim=base_embedding_dim,
            num_buckets=user_embedding_num_buckets,
            name="user_embedding",
        )(user_input)

        # Take the movie as an input.
        movie_input = layers.Input(name="movie_id", shape=(), dtype="int32")
        # Get embedding.
        movie_embedding = MDEmbedding(
            blocks_vocabulary=movie_blocks_vocabulary,
            blocks_embedding_dims=movie_blocks_embedding_dims,
            base_embedding_dim=base_embedding_dim,
            name="movie_embedding",
        )(movie_input)

        # Compute dot product similarity between user and movie embeddings.
        logits = layers.Dot(axes=1, name="dot_similarity")([user_embedding, movie_embedding])
        # Convert to rating scale.
        prediction = keras.activations.sigmoid(logits) * 5
        # Create the model.
        model = keras.Model(
            inputs=[user_input, movie_input], outputs=prediction, name="baseline_model"
        )
        return model

    memory_efficient_model = create_memory_efficient_model()
    lines = []
    memory_efficient_model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    history = run_experiment(memory_efficient_model)
    history.results = {"baseline": baseline_history.history}
    return history

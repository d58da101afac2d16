"""Port of keras-io `examples/structured_data/collaborative_filtering_movielens.py`
(Collaborative Filtering for Movie Recommendations, Siddhartha Banerjee, Keras 3 edition).

Changed: data (the MovieLens ratings.csv download and pandas preprocessing -> synthetic
(user, movie) index pairs and ratings scaled to [0, 1] from a hidden low-rank preference,
seeded, 40 users, 30 movies, 480 ratings, 90/10 train/validation split as the example),
EMBEDDING_SIZE 50 kept, epochs 5 -> 3, `verbose=0`, plotting and the movie-title lookup
dropped, the library passed in as `keras`. RecommenderNet (a subclassed model with
Embedding layers, `ops.tensordot`, per-user and per-movie biases, sigmoid), compile
(BinaryCrossentropy on ratings in [0, 1], Adam 0.001), fit and the top-10 recommendation by
`predict` over the unseen movies are the example's.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the built model before it trains and `shuffle` goes to
    `fit` (the parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    num_users, num_movies = 40, 30
    user_taste = rng.normal(size=(num_users, 3))
    movie_style = rng.normal(size=(num_movies, 3))
    pairs = rng.choice(num_users * num_movies, size=480, replace=False)
    user, movie = pairs // num_movies, pairs % num_movies
    rating = 1 + 4 / (1 + np.exp(-(user_taste[user] * movie_style[movie]).sum(1)))  # 1..5
    min_rating, max_rating = 0.5, 5.0
    x = np.stack([user, movie], axis=1).astype("int64")
    y = ((rating - min_rating) / (max_rating - min_rating)).astype("float32")
    train_indices = int(0.9 * len(x))
    x_train, x_val, y_train, y_val = (x[:train_indices], x[train_indices:], y[:train_indices], y[train_indices:])

    EMBEDDING_SIZE = 50

    class RecommenderNet(keras.Model):
        def __init__(self, num_users, num_movies, embedding_size, **kwargs):
            super().__init__(**kwargs)
            self.num_users = num_users
            self.num_movies = num_movies
            self.embedding_size = embedding_size
            self.user_embedding = layers.Embedding(
                num_users,
                embedding_size,
                embeddings_initializer="he_normal",
                embeddings_regularizer=keras.regularizers.l2(1e-6),
            )
            self.user_bias = layers.Embedding(num_users, 1)
            self.movie_embedding = layers.Embedding(
                num_movies,
                embedding_size,
                embeddings_initializer="he_normal",
                embeddings_regularizer=keras.regularizers.l2(1e-6),
            )
            self.movie_bias = layers.Embedding(num_movies, 1)

        def call(self, inputs):
            user_vector = self.user_embedding(inputs[:, 0])
            user_bias = self.user_bias(inputs[:, 0])
            movie_vector = self.movie_embedding(inputs[:, 1])
            movie_bias = self.movie_bias(inputs[:, 1])
            dot_user_movie = ops.tensordot(user_vector, movie_vector, 2)
            # Add all the components (including bias)
            x = dot_user_movie + user_bias + movie_bias
            # The sigmoid activation forces the rating to between 0 and 1
            return ops.nn.sigmoid(x)

    model = RecommenderNet(num_users, num_movies, EMBEDDING_SIZE)
    model.compile(
        loss=keras.losses.BinaryCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
    )
    if on_model:
        model(x_train[:2])  # builds the subclassed model so that its weights exist
        on_model(model)
    history = model.fit(
        x=x_train,
        y=y_train,
        batch_size=64,
        epochs=3,
        verbose=0,
        validation_data=(x_val, y_val),
        shuffle=shuffle,
    )

    user_id = 0
    movies_watched = set(movie[user == user_id].tolist())
    movies_not_watched = [m for m in range(num_movies) if m not in movies_watched]
    user_movie_array = np.hstack(
        ([[user_id]] * len(movies_not_watched), np.array(movies_not_watched)[:, None])
    )
    ratings = model.predict(user_movie_array, verbose=0).flatten()
    top_ratings_indices = ratings.argsort()[-10:][::-1]
    assert len(top_ratings_indices) == min(10, len(movies_not_watched))
    assert len(model.losses) == 2  # the two embeddings' L2 penalties
    return history

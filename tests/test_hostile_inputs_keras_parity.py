"""Bad calls a user can make on the public API, each made on Keras 3 and on keraslike.

`CASES`: both raise; keraslike's exception is an instance of Keras's type (the same class, or
one that is also it: `SavedFileError` is a ValueError, `ArgumentTypeError` a TypeError and a
ValueError), and its message names the culprit (the layer, argument, input, value or file).
Where Keras fails by accident inside Python (`Dropout("half")`: "'<=' not supported between
instances of 'int' and 'str'"), keraslike's message says what is wrong instead.

`KERAS_ACCEPTS`: calls Keras lets through and keraslike refuses with a ValueError, because
Keras then computes something other than what was asked (each entry says what Keras does).

`FAILED_SAVES`: a save that fails halfway (a layer's `save_own_variables`, `save_assets` or
`get_config` raising) raises Keras's exception and, unlike Keras, leaves no half-written file
behind (an existing file at the path is kept as it was).
"""

import os
import warnings

import numpy as np
import pytest
import torch

import keraslike

X = np.random.default_rng(0).standard_normal((10, 3)).astype("float32")
Y = np.random.default_rng(1).standard_normal((10, 2)).astype("float32")


def _mlp(lib):
    inputs = lib.Input((3,), name="features")
    outputs = lib.layers.Dense(2, name="head")(lib.layers.Dense(4, name="hidden")(inputs))
    return lib.Model(inputs, outputs)


def _compiled(lib, **kwargs):
    model = _mlp(lib)
    model.compile(**{"optimizer": "sgd", "loss": "mse", **kwargs})
    return model


def _generator():
    while True:
        yield X[:2], Y[:2]


def _disconnected(lib):
    a, b = lib.Input((3,), name="a"), lib.Input((3,), name="b")
    return lib.Model(a, lib.layers.Dense(2, name="dense_from_b")(b))


def _duplicate_names(lib):
    x = lib.Input((3,))
    return lib.Model(x, lib.layers.Dense(2, name="twin")(lib.layers.Dense(3, name="twin")(x)))


def _built_dense(lib):
    layer = lib.layers.Dense(2, name="built")
    layer.build((None, 3))
    return layer


def _write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def _truncated_archive(lib, tmp):
    full = os.path.join(tmp, "full.keras")
    _mlp(lib).save(full)
    with open(full, "rb") as f:
        data = f.read()
    return lib.saving.load_model(_write(os.path.join(tmp, "cut.keras"), data[: len(data) // 2]))


def _text_as_weights(lib, tmp):
    return _mlp(lib).load_weights(_write(os.path.join(tmp, "text.weights.h5"), "not HDF5"))


def _weights_given_to_load_model(lib, tmp):
    path = os.path.join(tmp, "only.weights.h5")
    _mlp(lib).save_weights(path)
    return lib.saving.load_model(path)


def _set_epsilon_and_restore(lib, value):
    # Keras accepts the string: its global epsilon is put back for the tests that follow.
    previous = lib.config.epsilon()
    try:
        lib.config.set_epsilon(value)
    finally:
        lib.config.set_epsilon(previous)


_STRINGS = np.array([["a", "b", "c"]] * 10)

# (id, call(lib, tmp), substrings keraslike's message must contain)
CASES = [
    # Input and Model construction
    ("input_shape_not_tuple", lambda lib, t: lib.Input(shape=3), ["shape", "3"]),
    ("input_unknown_dtype", lambda lib, t: lib.Input((3,), dtype="float33"), ["float33"]),
    ("input_negative_dimension", lambda lib, t: lib.Input((-3,)), ["(-3,)", "Negative"]),
    ("input_negative_batch_size", lambda lib, t: lib.Input((3,), batch_size=-1), ["(-1, 3)", "Negative"]),
    ("model_outputs_not_from_inputs", lambda lib, t: _disconnected(lib), ['"b"']),
    ("model_duplicate_layer_names", lambda lib, t: _duplicate_names(lib), ["twin"]),
    ("model_outputs_a_string", lambda lib, t: lib.Model(lib.Input((3,)), "logits"), ["logits"]),
    ("model_outputs_nested_with_int",
     lambda lib, t: (lambda x: lib.Model(x, [lib.layers.Dense(2)(x), 3]))(lib.Input((3,))), ["3"]),
    ("model_inputs_an_array",
     lambda lib, t: (lambda x: lib.Model(np.ones(3), lib.layers.Dense(2)(x)))(lib.Input((3,))), ["inputs"]),
    ("sequential_add_a_string", lambda lib, t: lib.Sequential().add("dense"), ["dense"]),
    ("sequential_duplicate_names", lambda lib, t: lib.Sequential(
        [lib.Input((3,)), lib.layers.Dense(2, name="a"), lib.layers.Dense(2, name="a")]), ['"a"']),
    # layer constructors
    ("dense_negative_units", lambda lib, t: lib.layers.Dense(-1), ["units", "-1"]),
    ("dense_zero_units", lambda lib, t: lib.layers.Dense(0), ["units", "0"]),
    ("dense_float_units", lambda lib, t: lib.layers.Dense(2.5), ["units", "2.5"]),
    ("dense_unknown_keyword", lambda lib, t: lib.layers.Dense(3, unit=4), ["unit"]),
    ("dense_unknown_activation", lambda lib, t: lib.layers.Dense(3, activation="relux"), ["relux"]),
    ("activation_unknown_name", lambda lib, t: lib.layers.Activation("swishy"), ["swishy"]),
    ("dense_unknown_initializer",
     lambda lib, t: lib.layers.Dense(3, kernel_initializer="glorot_uniformm"), ["glorot_uniformm"]),
    ("dense_unknown_regularizer", lambda lib, t: lib.layers.Dense(3, kernel_regularizer="l3"), ["l3"]),
    ("dense_unknown_constraint", lambda lib, t: lib.layers.Dense(3, kernel_constraint="positive"), ["positive"]),
    ("conv_unknown_padding", lambda lib, t: lib.layers.Conv2D(4, 3, padding="full"), ["padding", "full"]),
    ("conv_unknown_data_format", lambda lib, t: lib.layers.Conv2D(4, 3, data_format="nhwc"), ["nhwc"]),
    ("conv_zero_filters", lambda lib, t: lib.layers.Conv2D(0, 3), ["filters", "0"]),
    ("conv_zero_kernel_size", lambda lib, t: lib.layers.Conv2D(2, 0), ["kernel_size", "0"]),
    ("conv_zero_strides", lambda lib, t: lib.layers.Conv2D(4, 3, strides=0), ["strides", "0"]),
    ("pool_unknown_padding",
     lambda lib, t: lib.layers.MaxPooling2D(padding="full")(lib.Input((4, 4, 1))), ["padding", "full"]),
    ("dropout_rate_above_one", lambda lib, t: lib.layers.Dropout(1.5), ["rate", "1.5"]),
    ("dropout_rate_negative", lambda lib, t: lib.layers.Dropout(-0.1), ["rate", "-0.1"]),
    ("dropout_rate_a_string", lambda lib, t: lib.layers.Dropout("half"), ["rate", "half", "dropout"]),
    ("gaussian_noise_stddev_a_string", lambda lib, t: lib.layers.GaussianNoise("x"), ["stddev", "gaussian_noise"]),
    ("lstm_negative_units", lambda lib, t: lib.layers.LSTM(-1), ["units", "-1"]),
    ("embedding_zero_input_dim", lambda lib, t: lib.layers.Embedding(0, 3), ["input_dim", "0"]),
    ("layer_name_with_a_slash", lambda lib, t: lib.layers.Dense(3, name="a/b"), ["a/b"]),
    ("add_weight_negative_shape",
     lambda lib, t: lib.layers.Layer(name="owner").add_weight(shape=(-1, 2), name="w"), ["(-1, 2)", "owner"]),
    ("add_weight_undefined_shape",
     lambda lib, t: lib.layers.Layer(name="owner").add_weight(shape=(None, 2), name="w"), ["None", "owner"]),
    # calling layers and models on the wrong tensors
    ("dense_eager_wrong_last_dim", lambda lib, t: _built_dense(lib)(np.ones((2, 4), "float32")), ["built", "4"]),
    ("dense_symbolic_wrong_last_dim", lambda lib, t: _built_dense(lib)(lib.Input((5,))), ["built", "5"]),
    ("dense_on_strings", lambda lib, t: lib.layers.Dense(2, name="numeric")(np.array([["a", "b"]])), ["numeric"]),
    ("conv_wrong_rank", lambda lib, t: lib.layers.Conv2D(2, 3, name="conv")(lib.Input((8,))), ["conv", "ndim"]),
    ("lstm_wrong_rank", lambda lib, t: lib.layers.LSTM(2, name="rnn")(lib.Input((8,))), ["rnn", "ndim"]),
    ("batchnorm_axis_out_of_range",
     lambda lib, t: lib.layers.BatchNormalization(axis=5, name="bn")(lib.Input((3,))), ["axis", "5", "bn"]),
    ("layernorm_axis_out_of_range",
     lambda lib, t: lib.layers.LayerNormalization(axis=5, name="ln")(lib.Input((3,))), ["axis", "5", "ln"]),
    ("concatenate_mismatched_shapes",
     lambda lib, t: lib.layers.Concatenate(name="cat")([lib.Input((3, 4)), lib.Input((5, 4))]), ["cat"]),
    ("add_mismatched_shapes",
     lambda lib, t: lib.layers.Add(name="plus")([lib.Input((3,)), lib.Input((4,))]), ["plus"]),
    ("reshape_incompatible_size", lambda lib, t: lib.layers.Reshape((4, 4), name="rs")(lib.Input((10,))), ["rs"]),
    ("model_wrong_last_dim", lambda lib, t: _mlp(lib)(np.ones((2, 5), "float32")), ["features", "5"]),
    ("model_too_many_inputs", lambda lib, t: _mlp(lib)([np.ones((2, 3), "float32")] * 2), ["features"]),
    ("model_dict_unknown_key", lambda lib, t: _mlp(lib)({"other": np.ones((2, 3), "float32")}), ["features", "other"]),
    ("predict_wrong_rank", lambda lib, t: _mlp(lib).predict(np.ones((4, 3, 2), "float32"), verbose=0), ["features", "(4, 3, 2)"]),
    # fit / evaluate / predict
    ("fit_before_compile", lambda lib, t: _mlp(lib).fit(X, Y, verbose=0), ["compile"]),
    ("fit_x_y_lengths_differ", lambda lib, t: _compiled(lib).fit(X, Y[:9], verbose=0), ["10", "9"]),
    ("evaluate_x_y_lengths_differ", lambda lib, t: _compiled(lib).evaluate(X, Y[:7], verbose=0), ["10", "7"]),
    ("fit_sample_weight_length_differs",
     lambda lib, t: _compiled(lib).fit(X, Y, sample_weight=np.ones(4), verbose=0), ["sample_weight", "(4,)"]),
    ("fit_two_inputs_for_one", lambda lib, t: _compiled(lib).fit([X, X], Y, verbose=0), ["features"]),
    ("fit_x_dict_unknown_key", lambda lib, t: _compiled(lib).fit({"featurez": X}, Y, verbose=0), ["featurez"]),
    ("fit_strings", lambda lib, t: _compiled(lib).fit(_STRINGS, Y, verbose=0), ["features"]),
    ("predict_strings", lambda lib, t: _mlp(lib).predict(_STRINGS[:4], verbose=0), ["features"]),
    ("fit_negative_batch_size", lambda lib, t: _compiled(lib).fit(X, Y, batch_size=-4, verbose=0), ["batch_size", "-4"]),
    ("fit_float_batch_size", lambda lib, t: _compiled(lib).fit(X, Y, batch_size=2.5, verbose=0), ["batch_size", "2.5"]),
    ("fit_bool_batch_size", lambda lib, t: _compiled(lib).fit(X, Y, batch_size=True, verbose=0), ["batch_size", "True"]),
    ("fit_string_batch_size", lambda lib, t: _compiled(lib).fit(X, Y, batch_size="32", verbose=0), ["batch_size", "'32'"]),
    ("evaluate_string_batch_size",
     lambda lib, t: _compiled(lib).evaluate(X, Y, batch_size="8", verbose=0), ["batch_size", "'8'"]),
    ("predict_string_batch_size", lambda lib, t: _mlp(lib).predict(X, batch_size="4", verbose=0), ["batch_size", "'4'"]),
    ("predict_string_steps", lambda lib, t: _mlp(lib).predict(X, steps="2", verbose=0), ["steps", "'2'"]),
    ("fit_string_steps_per_epoch",
     lambda lib, t: _compiled(lib).fit(X, Y, steps_per_epoch="3", verbose=0), ["steps_per_epoch", "'3'"]),
    ("fit_string_epochs", lambda lib, t: _compiled(lib).fit(X, Y, epochs="2", verbose=0), []),
    ("fit_validation_split_on_a_generator", lambda lib, t: _compiled(lib).fit(
        _generator(), steps_per_epoch=2, validation_split=0.2, verbose=0), ["validation_split"]),
    ("fit_validation_split_one", lambda lib, t: _compiled(lib).fit(X, Y, validation_split=1.0, verbose=0),
     ["validation_split", "1.0"]),
    ("fit_validation_split_a_string",
     lambda lib, t: _compiled(lib).fit(X, Y, validation_split="0.2", verbose=0), ["validation_split", "'0.2'"]),
    ("fit_class_and_sample_weight", lambda lib, t: _compiled(lib).fit(
        X, Y, sample_weight=np.ones(10), class_weight={0: 1.0}, verbose=0), ["class_weight", "sample_weight"]),
    # compile
    ("compile_unknown_loss", lambda lib, t: _compiled(lib, loss="msee").fit(X, Y, verbose=0), ["msee"]),
    ("compile_loss_an_int", lambda lib, t: _compiled(lib, loss=42).fit(X, Y, verbose=0), ["42"]),
    ("compile_unknown_optimizer", lambda lib, t: _compiled(lib, optimizer="adamm"), ["adamm"]),
    ("compile_optimizer_an_int", lambda lib, t: _compiled(lib, optimizer=42), ["42"]),
    ("compile_unknown_metric",
     lambda lib, t: _compiled(lib, metrics=["accuracyy"]).fit(X, Y, verbose=0), ["accuracyy"]),
    ("compile_metric_an_int", lambda lib, t: _compiled(lib, metrics=[42]).fit(X, Y, verbose=0), ["42"]),
    ("compile_loss_dict_unknown_output",
     lambda lib, t: _compiled(lib, loss={"nothead": "mse"}).fit(X, Y, verbose=0), ["nothead"]),
    # set_weights
    ("layer_set_weights_wrong_count", lambda lib, t: _built_dense(lib).set_weights([np.ones((3, 2))]), ["built", "1"]),
    ("layer_set_weights_wrong_shape",
     lambda lib, t: _built_dense(lib).set_weights([np.ones((3, 3)), np.ones(2)]), ["(3, 3)"]),
    ("model_set_weights_wrong_count", lambda lib, t: _mlp(lib).set_weights([np.ones((3, 4))]), ["4", "1"]),
    ("model_set_weights_an_array", lambda lib, t: _mlp(lib).set_weights(np.ones(3)), ["4", "3"]),
    ("model_set_weights_wrong_shape", lambda lib, t: _mlp(lib).set_weights(
        [np.ones((3, 5)), np.ones(4), np.ones((4, 2)), np.ones(2)]), ["(3, 5)"]),
    # files
    ("load_model_missing_file",
     lambda lib, t: lib.saving.load_model(os.path.join(t, "missing.keras")), ["missing.keras"]),
    ("load_model_not_a_zip",
     lambda lib, t: lib.saving.load_model(_write(os.path.join(t, "text.keras"), "not a zip")), ["text.keras", "zip"]),
    ("load_model_truncated_archive", lambda lib, t: _truncated_archive(lib, t), ["cut.keras"]),
    ("load_model_unknown_format",
     lambda lib, t: lib.saving.load_model(_write(os.path.join(t, "model.txt"), "x")), ["model.txt"]),
    ("load_model_given_weights", lambda lib, t: _weights_given_to_load_model(lib, t), ["only.weights.h5"]),
    ("load_weights_missing_file",
     lambda lib, t: _mlp(lib).load_weights(os.path.join(t, "nowhere.weights.h5")), ["nowhere.weights.h5"]),
    ("load_weights_not_hdf5", lambda lib, t: _text_as_weights(lib, t), ["text.weights.h5", "HDF5"]),
    ("load_weights_unknown_extension",
     lambda lib, t: _mlp(lib).load_weights(os.path.join(t, "w.txt")), ["w.txt"]),
    ("save_unknown_extension", lambda lib, t: _mlp(lib).save(os.path.join(t, "model.txt")), ["model.txt"]),
    ("save_weights_without_weights_h5",
     lambda lib, t: _mlp(lib).save_weights(os.path.join(t, "w.h5")), ["w.h5"]),
    # more layers and wrappers
    ("layer_unknown_call_keyword",
     lambda lib, t: lib.layers.Dense(2, name="d")(lib.Input((3,)), foo=1), ["foo", '"d"']),
    ("dense_called_on_none", lambda lib, t: lib.layers.Dense(2, name="d")(None), ["None", "'d'"]),
    ("concatenate_axis_out_of_range", lambda lib, t: lib.layers.Concatenate(axis=5, name="cat")(
        [lib.Input((3,)), lib.Input((3,))]), ["axis", "5", "cat"]),
    ("dot_axes_out_of_range", lambda lib, t: lib.layers.Dot(axes=3, name="dot")(
        [lib.Input((3,)), lib.Input((3,))]), ["axes", "3", "dot"]),
    ("lambda_not_callable", lambda lib, t: lib.layers.Lambda("x"), ["function", "'x'"]),
    ("bidirectional_of_a_dense", lambda lib, t: lib.layers.Bidirectional(lib.layers.Dense(2, name="d")),
     ["Dense", '"d"', "recurrent"]),
    ("time_distributed_of_a_string", lambda lib, t: lib.layers.TimeDistributed("x"), ["TimeDistributed", "x"]),
    ("rnn_of_a_string", lambda lib, t: lib.layers.RNN("cell"), ["cell"]),
    ("lstm_unknown_activation", lambda lib, t: lib.layers.LSTM(2, activation="nope"), ["nope"]),
    ("conv_kernel_size_of_three_values", lambda lib, t: lib.layers.Conv2D(2, (3, 3, 3)), ["kernel_size", "(3, 3, 3)"]),
    ("conv_strides_and_dilation", lambda lib, t: lib.layers.Conv2D(2, 3, strides=2, dilation_rate=2),
     ["strides", "dilation_rate"]),
    ("pool_zero_pool_size", lambda lib, t: lib.layers.MaxPooling2D(pool_size=0), ["pool_size", "0"]),
    ("upsampling_zero_size", lambda lib, t: lib.layers.UpSampling2D(size=0), ["size", "0"]),
    ("flatten_unknown_data_format", lambda lib, t: lib.layers.Flatten(data_format="x"), ["data_format", "x"]),
    ("cropping_more_than_the_input", lambda lib, t: lib.layers.Cropping1D((3, 3), name="crop")(lib.Input((4, 2))),
     ["cropping", "(3, 3)", "crop"]),
    ("attention_zero_heads", lambda lib, t: lib.layers.MultiHeadAttention(0, 4), ["num_heads", "0"]),
    ("batchnorm_momentum_a_string", lambda lib, t: lib.layers.BatchNormalization(momentum="x"), ["'x'"]),
    ("input_name_an_int", lambda lib, t: lib.Input((3,), name=5), ["name", "5"]),
    ("unbuilt_layer_set_weights", lambda lib, t: lib.layers.Dense(2, name="d").set_weights(
        [np.ones((3, 2)), np.ones(2)]), ['"d"', "0", "2"]),
    ("empty_sequential_called", lambda lib, t: lib.Sequential(name="stack")(np.ones((2, 3), "float32")),
     ["stack", "no layers"]),
    ("empty_sequential_build", lambda lib, t: lib.Sequential(name="stack").build((None, 3)), ["stack", "no layers"]),
    # more training calls
    ("fit_callbacks_a_string", lambda lib, t: _compiled(lib).fit(X, Y, callbacks="early", verbose=0),
     ["callbacks", "early"]),
    ("predict_none", lambda lib, t: _mlp(lib).predict(None, verbose=0), ["predict", "None"]),
    ("evaluate_none", lambda lib, t: _compiled(lib).evaluate(None, verbose=0), ["evaluate", "None"]),
    ("fit_y_none_with_a_loss", lambda lib, t: _compiled(lib).fit(X, None, verbose=0), ["head"]),
    ("fit_validation_data_without_y",
     lambda lib, t: _compiled(lib).fit(X, Y, validation_data=(X,), verbose=0), ["head"]),
    ("fit_class_weight_a_string",
     lambda lib, t: _compiled(lib).fit(X, np.zeros((10, 2)), class_weight={0: "a"}, verbose=0), ["'a'"]),
    ("train_on_batch_before_compile", lambda lib, t: _mlp(lib).train_on_batch(X, Y), ["compile"]),
    ("compile_loss_weights_count", lambda lib, t: _compiled(lib, loss_weights=[1.0, 2.0]).fit(X, Y, verbose=0),
     ["loss_weights"]),
    ("adam_learning_rate_a_string", lambda lib, t: lib.optimizers.Adam(learning_rate="fast"), ["learning_rate", "fast"]),
    ("sgd_negative_momentum", lambda lib, t: lib.optimizers.SGD(momentum=-1.0), ["momentum", "-1.0"]),
    ("adam_two_clipping_arguments", lambda lib, t: lib.optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0),
     ["clipnorm", "global_clipnorm"]),
    ("losses_get_unknown", lambda lib, t: lib.losses.get("nope"), ["nope"]),
    ("activations_get_unknown", lambda lib, t: lib.activations.get("nope"), ["nope"]),
    ("to_categorical_class_out_of_range", lambda lib, t: lib.utils.to_categorical([1, 5], num_classes=3), ["5", "3"]),
    ("model_from_json_not_json", lambda lib, t: lib.models.model_from_json("{not json"), ["model_from_json"]),
    ("load_weights_into_an_unbuilt_model", lambda lib, t: (
        _mlp(lib).save_weights(os.path.join(t, "a.weights.h5")),
        lib.Sequential([lib.layers.Dense(2)], name="unbuilt").load_weights(os.path.join(t, "a.weights.h5"))),
     ["unbuilt", "not yet been built"]),
    ("rescaling_scale_a_string", lambda lib, t: lib.layers.Rescaling("x", name="rs")(np.ones((1, 2), "float32")),
     ["scale", "'x'", "rs"]),
    ("masking_value_a_string", lambda lib, t: lib.layers.Masking(mask_value="x", name="m")(
        np.ones((1, 2, 3), "float32")), ["mask_value", "'x'"]),
    ("random_rotation_unknown_fill_mode",
     lambda lib, t: lib.layers.RandomRotation(0.1, fill_mode="mirrorish"), ["fill_mode", "mirrorish"]),
    ("random_zoom_unknown_interpolation",
     lambda lib, t: lib.layers.RandomZoom(0.1, interpolation="cubicish"), ["interpolation", "cubicish"]),
    ("random_translation_unknown_fill_mode",
     lambda lib, t: lib.layers.RandomTranslation(0.1, 0.1, fill_mode="x"), ["fill_mode"]),
    ("einsum_dense_bad_equation",
     lambda lib, t: lib.layers.EinsumDense("ab,bc", output_shape=4)(lib.Input((3,))), ["ab,bc"]),
    ("checkpoint_unknown_extension",
     lambda lib, t: lib.callbacks.ModelCheckpoint(os.path.join(t, "ckpt.txt")), ["ckpt.txt"]),
    ("checkpoint_weights_only_to_keras", lambda lib, t: lib.callbacks.ModelCheckpoint(
        os.path.join(t, "ckpt.keras"), save_weights_only=True), ["ckpt.keras", "weights.h5"]),
    ("checkpoint_unknown_save_freq", lambda lib, t: lib.callbacks.ModelCheckpoint(
        os.path.join(t, "c.keras"), save_freq="sometimes"), ["save_freq", "sometimes"]),
    ("reduce_lr_factor_above_one", lambda lib, t: lib.callbacks.ReduceLROnPlateau(factor=1.5), ["factor"]),
    ("optimizers_get_unknown", lambda lib, t: lib.optimizers.get("nope"), ["nope"]),
    ("sgd_keras2_lr_keyword", lambda lib, t: lib.optimizers.SGD(lr=0.1), ["lr"]),
    ("loss_unknown_reduction", lambda lib, t: lib.losses.CategoricalCrossentropy(reduction="average"),
     ["reduction", "average"]),
    ("loss_shapes_differ", lambda lib, t: lib.losses.MeanSquaredError()(np.ones((2, 3)), np.ones((2, 4))), []),
    ("metrics_get_unknown", lambda lib, t: lib.metrics.get("nope"), ["nope"]),
    ("auc_unknown_curve", lambda lib, t: lib.metrics.AUC(curve="XYZ"), ["curve", "XYZ"]),
    ("initializer_unknown_distribution",
     lambda lib, t: lib.initializers.VarianceScaling(distribution="flat"), ["distribution", "flat"]),
    ("initializer_negative_scale", lambda lib, t: lib.initializers.VarianceScaling(scale=-1.0), ["scale", "-1.0"]),
    ("initializers_get_unknown", lambda lib, t: lib.initializers.get("nope"), ["nope"]),
    ("regularizer_l2_a_string", lambda lib, t: lib.regularizers.L2("x"), ["l2", "x"]),
    ("permute_repeated_dims", lambda lib, t: lib.layers.Permute((1, 1))(lib.Input((3, 4))), ["(1, 1)"]),
    ("permute_batch_dim", lambda lib, t: lib.layers.Permute((0, 1))(lib.Input((3, 4))), ["(0, 1)"]),
    ("global_pool_unknown_data_format",
     lambda lib, t: lib.layers.GlobalAveragePooling2D(data_format="x"), ["data_format", "x"]),
    ("attention_unknown_score_mode", lambda lib, t: lib.layers.Attention(score_mode="cosine"), ["score_mode", "cosine"]),
    ("pad_sequences_unknown_padding", lambda lib, t: lib.utils.pad_sequences([[1, 2]], padding="middle"), ["middle"]),
    ("ops_reshape_wrong_size", lambda lib, t: lib.ops.reshape(np.ones((2, 3)), (4, 2)), []),
    ("ops_matmul_wrong_shapes", lambda lib, t: lib.ops.matmul(np.ones((2, 3)), np.ones((4, 2))), []),
    ("ops_concatenate_axis_out_of_range",
     lambda lib, t: lib.ops.concatenate([np.ones((2, 3)), np.ones((2, 3))], axis=3), []),
    ("dot_sizes_differ", lambda lib, t: lib.layers.Dot(axes=1, name="dot")([lib.Input((3,)), lib.Input((4,))]),
     ["dot", "3", "4"]),
    ("subtract_one_input", lambda lib, t: lib.layers.Subtract(name="minus")([lib.Input((3,))]), ["minus", "2"]),
    ("leaky_relu_slope_a_string", lambda lib, t: lib.layers.LeakyReLU(negative_slope="x"), ["negative_slope", "x"]),
    ("relu_threshold_a_string", lambda lib, t: lib.layers.ReLU(threshold="x"), ["threshold", "x"]),
    ("relu_negative_max_value", lambda lib, t: lib.layers.ReLU(max_value=-1), ["max_value", "-1"]),
    ("prelu_shared_axis_out_of_range",
     lambda lib, t: lib.layers.PReLU(shared_axes=[5], name="pr")(lib.Input((3, 4))), ["shared_axes", "5", "pr"]),
    ("layernorm_axis_out_of_range_eager",
     lambda lib, t: lib.layers.LayerNormalization(axis=5, name="ln")(np.ones((2, 3), "float32")), ["axis", "5", "ln"]),
    ("unit_norm_axis_out_of_range",
     lambda lib, t: lib.layers.UnitNormalization(axis=5, name="un")(lib.Input((3,))), ["axis", "5", "un"]),
    ("pool_zero_strides_eager",
     lambda lib, t: lib.layers.MaxPooling1D(2, strides=0)(np.ones((1, 8, 2), "float32")), ["strides", "0"]),
    ("attention_dropout_above_one", lambda lib, t: lib.layers.MultiHeadAttention(2, 4, dropout=2.0)(
        np.ones((1, 3, 8), "float32"), np.ones((1, 3, 8), "float32"), training=True), ["dropout", "2.0"]),
    ("upsampling_unknown_interpolation_eager",
     lambda lib, t: lib.layers.UpSampling2D(interpolation="cubicish")(np.ones((1, 4, 4, 1), "float32")), ["interpolation", "cubicish"]),
    # configs and files, fifth round
    ("dense_from_config_negative_units", lambda lib, t: lib.layers.Dense.from_config({"units": -1}),
     ["Dense", "units", "-1"]),
    ("deserialize_unknown_class",
     lambda lib, t: lib.layers.deserialize({"class_name": "Nope", "config": {}}), ["Nope"]),
    ("deserialize_keras_object_unknown", lambda lib, t: lib.saving.deserialize_keras_object(
        {"class_name": "Nope", "config": {}, "module": "keras.layers"}), ["Nope"]),
    ("sequential_from_config_unknown_layer", lambda lib, t: lib.Sequential.from_config(
        {"layers": [{"class_name": "Nope", "config": {}}]}), ["Nope"]),
    ("compile_zero_steps_per_execution",
     lambda lib, t: _compiled(lib, steps_per_execution=0).fit(X, Y, verbose=0), ["steps_per_execution", "0"]),
    ("fit_float_steps_per_epoch",
     lambda lib, t: _compiled(lib).fit(X, Y, steps_per_epoch=1.5, verbose=0), ["steps_per_epoch", "1.5"]),
    ("input_sparse", lambda lib, t: lib.Input((3,), sparse=True), ["sparse"]),
    ("input_ragged", lambda lib, t: lib.Input((3,), ragged=True), ["ragged"]),
    ("save_to_a_directory", lambda lib, t: _mlp(lib).save(t), ["directory"]),
    ("load_model_a_directory", lambda lib, t: lib.saving.load_model(t), ["directory"]),
    ("load_model_empty_file",
     lambda lib, t: lib.saving.load_model(_write(os.path.join(t, "empty.keras"), "")), ["empty.keras"]),
    ("load_model_zip_without_config", lambda lib, t: (
        __import__("zipfile").ZipFile(os.path.join(t, "bare.keras"), "w").close(),
        lib.saving.load_model(os.path.join(t, "bare.keras"))), ["bare.keras", "config.json"]),
    # sixth round
    ("add_loss_a_string", lambda lib, t: lib.layers.Dense(2, name="d").add_loss("x"), ["add_loss", "'x'"]),
    ("convert_to_tensor_a_string", lambda lib, t: lib.ops.convert_to_tensor("abc"), ["abc"]),
    ("sequential_pop_empty", lambda lib, t: lib.Sequential(name="stack").pop(), ["stack"]),
    ("lambda_output_shape_a_string",
     lambda lib, t: lib.layers.Lambda(lambda x: x, output_shape="x")(lib.Input((3,))), ["output_shape", "'x'"]),
    ("fit_list_targets_for_dict_outputs", lambda lib, t: (lambda i: (lambda m: (
        m.compile("sgd", {"o": "mse"}), m.fit(X, [Y, Y], verbose=0)))(
        lib.Model(i, {"o": lib.layers.Dense(2, name="o")(i)})))(lib.Input((3,))), ["structures", '"o"']),
    ("unbuilt_layer_count_params", lambda lib, t: lib.layers.Dense(2, name="d").count_params(), ["d"]),
    ("image_dataset_missing_folder",
     lambda lib, t: lib.utils.image_dataset_from_directory(os.path.join(t, "nope")), ["nope"]),
    ("text_dataset_missing_folder",
     lambda lib, t: lib.utils.text_dataset_from_directory(os.path.join(t, "nope")), ["nope"]),
    ("set_floatx_unknown", lambda lib, t: lib.config.set_floatx("float33"), ["float33"]),
    ("set_image_data_format_unknown", lambda lib, t: lib.config.set_image_data_format("nhwc"), ["nhwc"]),
    ("set_global_policy_unknown", lambda lib, t: lib.mixed_precision.set_global_policy("mixed_float33"),
     ["mixed_float33"]),
    ("dense_unknown_dtype_policy", lambda lib, t: lib.layers.Dense(2, dtype="mixed_float33"), ["mixed_float33"]),
    ("random_normal_string_seed", lambda lib, t: lib.random.normal((2,), seed="x"), ["seed"]),
    ("seed_generator_string_seed", lambda lib, t: lib.random.SeedGenerator("x"), ["seed"]),
    ("normalize_axis_out_of_range", lambda lib, t: lib.utils.normalize(np.ones((2, 3)), axis=5), ["5"]),
    # get_layer
    ("get_layer_unknown_name", lambda lib, t: _mlp(lib).get_layer("hiden"), ["hiden"]),
    ("get_layer_index_out_of_range", lambda lib, t: _mlp(lib).get_layer(index=7), ["7"]),
    ("get_layer_int_as_name", lambda lib, t: _mlp(lib).get_layer(3), ["3"]),
    ("get_layer_no_argument", lambda lib, t: _mlp(lib).get_layer(), ["name", "index"]),
    ("get_layer_name_and_index", lambda lib, t: _mlp(lib).get_layer("head", index=1), ["name", "index"]),
    # Fixed in session 6 (models/functional.py): a graph model's compute_output_shape runs the
    # graph and checks the input; `model("hello")` raises Keras's ValueError type.
    ("model_compute_output_shape_wrong_input",
     lambda lib, t: _mlp(lib).compute_output_shape((None, 5)), ["features", "5"]),
    ("model_called_on_a_string", lambda lib, t: _mlp(lib)("hello"), ["features", "hello"]),
]

# (id, call(lib, tmp), culprit substrings, what Keras does instead of raising)
KERAS_ACCEPTS = [
    ("model_unknown_keyword",
     lambda lib, t: (lambda x: lib.Model(x, lib.layers.Dense(2)(x), nmae="m"))(lib.Input((3,))),
     ["nmae"], "Keras's Functional ignores unknown keyword arguments (the model is not named 'm')"),
    ("fit_zero_batch_size", lambda lib, t: _compiled(lib).fit(X, Y, batch_size=0, verbose=0),
     ["batch_size", "0"], "Keras trains with batches of 32"),
    ("predict_zero_batch_size", lambda lib, t: _mlp(lib).predict(X, batch_size=0, verbose=0),
     ["batch_size", "0"], "Keras predicts in batches of 32"),
    ("fit_zero_steps_per_epoch", lambda lib, t: _compiled(lib).fit(X, Y, steps_per_epoch=0, verbose=0),
     ["steps_per_epoch", "0"], "Keras runs full epochs"),
    ("fit_validation_split_above_one",
     lambda lib, t: _compiled(lib).fit(X, Y, validation_split=1.5, verbose=0),
     ["validation_split", "1.5"], "Keras trains on the first 5 of 10 samples, validates on the last 5"),
    ("clone_model_of_a_string", lambda lib, t: lib.models.clone_model("model"),
     ["clone_model", "'model'"], "Keras returns the string unchanged"),
    ("zero_padding_negative", lambda lib, t: lib.layers.ZeroPadding2D(padding=-1),
     ["padding", "-1"], "Keras crops (a negative padding removes rows and columns)"),
    ("adam_negative_learning_rate", lambda lib, t: lib.optimizers.Adam(learning_rate=-1.0),
     ["learning_rate", "-1.0"], "Keras climbs the loss (gradient ascent)"),
    ("random_flip_unknown_mode", lambda lib, t: lib.layers.RandomFlip("diagonal"),
     ["mode", "diagonal"], "Keras's layer then flips nothing"),
    ("resizing_zero_height", lambda lib, t: lib.layers.Resizing(0, 4)(lib.Input((8, 8, 1))),
     ["height", "0"], "Keras builds a graph of empty images (its eager call fails in torch)"),
    ("batchnorm_momentum_above_one", lambda lib, t: lib.layers.BatchNormalization(momentum=1.5),
     ["momentum", "1.5"], "Keras's moving statistics then grow without bound"),
    ("batchnorm_negative_epsilon", lambda lib, t: lib.layers.BatchNormalization(epsilon=-1.0),
     ["epsilon", "-1.0"], "Keras divides by the square root of variance - 1 (NaN for small variances)"),
    ("sequential_input_after_layers",
     lambda lib, t: (lambda s: (s.add(lib.layers.Dense(2)), s.add(lib.Input((3,)))))(lib.Sequential(name="stack")),
     ["stack", "InputLayer"], "Keras's Sequential then has an output of shape (None, None)"),
    ("set_epsilon_a_string", lambda lib, t: _set_epsilon_and_restore(lib, "x"),
     ["'x'"], "Keras stores the string and fails in the first op that adds it"),
    ("compile_more_losses_than_outputs",
     lambda lib, t: _compiled(lib, loss=["mse", "mae"]).fit(X, Y, verbose=0),
     ["loss", "'mae'", "head"], "Keras trains on the first loss and drops the second"),
]


@pytest.fixture(scope="module")
def keras_once():
    """Keras, its session cleared once for the module: the cases compare exception types and
    keraslike's messages, not Keras's layer names, so a per-test `clear_session` (a full
    garbage collection, 0.1 s) is not needed."""
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    return keras


def _raised(lib, call, tmp_path):
    folder = tmp_path / lib.__name__
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(lib, str(folder))
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return error
    return None


@pytest.mark.parametrize("call,culprits", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_call_raises_kerass_type_naming_the_culprit(keras_once, tmp_path, call, culprits):
    theirs = _raised(keras_once, call, tmp_path)
    ours = _raised(keraslike, call, tmp_path)
    assert theirs is not None, "Keras accepts this call: move it to KERAS_ACCEPTS"
    assert ours is not None, f"keraslike accepts it; Keras raised {type(theirs).__name__}: {theirs}"
    assert isinstance(ours, type(theirs)), (
        f"Keras raised {type(theirs).__name__}: {theirs}\nkeraslike {type(ours).__name__}: {ours}")
    for culprit in culprits:
        assert culprit in str(ours), f"{culprit!r} not named in: {ours}"


@pytest.mark.parametrize("call,culprits,keras_does", [c[1:] for c in KERAS_ACCEPTS],
                         ids=[c[0] for c in KERAS_ACCEPTS])
def test_bad_call_keras_lets_through_is_refused(keras_once, tmp_path, call, culprits, keras_does):
    assert _raised(keras_once, call, tmp_path) is None, f"Keras raises now: move it to CASES"
    ours = _raised(keraslike, call, tmp_path)
    assert type(ours) is ValueError, f"{keras_does}; keraslike: {ours!r}"
    for culprit in culprits:
        assert culprit in str(ours), f"{culprit!r} not named in: {ours}"


def test_the_sweep_is_large_enough():
    assert len(CASES) + len(KERAS_ACCEPTS) >= 40


def _failing_model(lib, how):
    class Unsaveable(lib.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), name="w")

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.w)

    if how == "variables":
        def save_own_variables(self, store):
            raise RuntimeError("cannot write my variables")

        def load_own_variables(self, store):
            pass

        Unsaveable.save_own_variables = save_own_variables
        Unsaveable.load_own_variables = load_own_variables
    if how == "assets":
        def save_assets(self, path):
            raise OSError("disk full in save_assets")

        Unsaveable.save_assets = save_assets
    if how == "config":
        def get_config(self):
            raise NotImplementedError("no config for Unsaveable")

        Unsaveable.get_config = get_config
    inputs = lib.Input((3,))
    return lib.Model(inputs, Unsaveable(name="unsaveable")(inputs))


FAILED_SAVES = [
    ("variables", "save", "m.keras", RuntimeError),
    ("assets", "save", "m.keras", OSError),
    ("config", "save", "m.keras", NotImplementedError),
    ("variables", "save_weights", "m.weights.h5", RuntimeError),
]


@pytest.mark.parametrize("how,method,filename,error", FAILED_SAVES,
                         ids=[f"{m}-{h}" for h, m, _, _ in FAILED_SAVES])
def test_a_failed_save_raises_kerass_type_and_leaves_no_file(keras_once, tmp_path, how, method,
                                                             filename, error):
    for lib in (keras_once, keraslike):
        folder = tmp_path / lib.__name__
        folder.mkdir()
        with pytest.raises(error):
            getattr(_failing_model(lib, how), method)(str(folder / filename))
    assert os.listdir(tmp_path / "keraslike") == []  # (Keras leaves its partial file)


def test_a_failed_save_over_an_existing_file_keeps_it(tmp_path):
    path = str(tmp_path / "m.keras")
    model = _mlp(keraslike)
    model.save(path)
    with pytest.raises(RuntimeError, match="cannot write my variables"):
        _failing_model(keraslike, "variables").save(path)
    assert os.listdir(tmp_path) == ["m.keras"]
    restored = keraslike.saving.load_model(path)
    np.testing.assert_array_equal(restored.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize("name", ["Add", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"])
def test_a_merge_of_one_input_passes_it_through_as_in_keras(keras_once, name):
    # Keras 3 accepts one input (keraslike refused it, as Keras 2 did).
    x = np.arange(6, dtype="float32").reshape(2, 3)
    for lib in (keras_once, keraslike):
        inputs = lib.Input((3,))
        outputs = getattr(lib.layers, name)()([inputs])
        assert tuple(outputs.shape) == (None, 3)
        np.testing.assert_array_equal(np.asarray(lib.Model(inputs, outputs).predict(x, verbose=0)), x)


def test_model_called_on_integer_data_casts_it_to_the_input_dtype_as_keras(keras_once):
    # Keras converts a model's inputs to its Input dtypes; keraslike's model call kept integer
    # arrays and tensors as they were, and Dense failed: "mat1 and mat2 must have the same dtype".
    x = np.arange(6).reshape(2, 3)
    theirs = _mlp(keras_once)
    ours = _mlp(keraslike)
    ours.set_weights(theirs.get_weights())
    expected = np.asarray(theirs(x.astype("float32")).detach())
    for data in (x, torch.as_tensor(x), x.astype("int32")):
        out = ours(data)
        assert out.dtype == torch.float32
        np.testing.assert_allclose(np.asarray(out.detach()), expected, rtol=1e-6, atol=1e-6)

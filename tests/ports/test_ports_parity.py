"""Ported keras-io examples train the same numbers as Keras 3 from the same initial weights.

Each port listed here takes `run(keras, on_model=None, shuffle=True)`: `on_model(model)` is
called on every model just before it trains (a port may keep earlier fits' logs in
`History.results`, compared too). The Keras run records each model's initial
weights; the keraslike run sets them; both train unshuffled. Compared: every History entry
epoch by epoch, and each model's trained weights (a tighter check than the loss). Ports whose
models draw random numbers while training (dropout, sampling) are not listed here: the two
libraries' random streams differ, so only their shapes and names are compared (test_ports.py).
"""

import importlib

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

PARITY = [
    "rl_ddpg_pendulum",
    "rl_ppo_cartpole",
    "rl_deep_q_network_cartpole",  # its loss rises (growing bootstrapped targets): not in PORTS
    "structured_data_feature_engineering_with_custom_layer",
    "keras_recipes_endpoint_layer_pattern",
    "guides_custom_train_step_in_torch",
    "vision_convmixer",
    "vision_super_resolution_sub_pixel",
    "structured_data_collaborative_filtering_movielens",
    "vision_conv_lstm",
    "vision_attention_mil_classification",
    "guides_functional_api",
    "guides_writing_your_own_callbacks",
    "guides_training_with_built_in_methods",
    "guides_working_with_rnns",
    "guides_sequential_model",
    "guides_writing_a_custom_training_loop_in_torch",
    "generative_pixelcnn",
    "vision_involution",
    "keras_recipes_approximating_non_function_mappings",
    "generative_vq_vae",
    "graph_gnn_citations",
    "vision_swin_transformers",
    "structured_data_deep_neural_decision_forests",
    "keras_recipes_debugging_tips",
    "timeseries_traffic_forecasting",
    "vision_zero_dce",
    "vision_edsr",
    "generative_real_nvp",
    "generative_dcgan_overriding_train_step",
    "graph_gat_node_classification",
    "guides_int8_quantization_in_keras",
    "rl_actor_critic_cartpole",
]

# Earlier ports without the `on_model` / `shuffle` arguments: `Model.fit` itself is wrapped in
# both libraries for the run (Keras's initial weights recorded, then copied in; unshuffled).
# Only ports whose models are built before `fit` and draw no random numbers while training.
FIT_WRAPPED_PARITY = [
    "timeseries_classification_from_scratch",
    "nlp_addition_rnn",
    "vision_autoencoder",
    "generative_lstm_character_level_text_generation",
]
# keras_recipes_memory_efficient_embeddings is not listed: its MDEmbedding appends sublayers to
# two lists in turn, whose weights keraslike orders list by list, Keras in append order
# (tests/ports/test_ports_gaps.py), so Keras's initial weights cannot be copied in by position.
# keras_recipes_sklearn_metric_callbacks and the distillation recipe's training are not either:
# the first trains with Dropout; the second's ResNet50V2 has conv biases ahead of
# BatchNormalization (a true gradient of zero whose float noise AdamW turns into steps), so its
# weights drift ~1e-2 apart within a few steps; its evaluation from the same weights is compared.
# vision_focal_modulation_network crops and flips while training (seeded, it trains to Keras's
# losses: test_ports.py). (nlp_bidirectional_lstm_imdb, nlp_lstm_seq2seq and vision_knowledge_distillation also train
# the same numbers this way, but take 7-13 s; timeseries_weather_forecasting and
# vision_siamese_contrastive have their own parity tests.)

# A conv bias followed by BatchNormalization has a true gradient of zero: Adam turns the float
# noise of its computed gradient into learning-rate-sized steps, so those biases match only to
# about the learning rate, and the losses to ~1e-4 (every other weight matches tightly).
# Per port: (History rtol, weights atol).
# vision_involution: a barely-active ReLU channel of the conv model has gradients of float-noise
# size, which Adam likewise turns into steps; those kernels match to ~5e-5, the losses to 1e-7.
# vision_swin_transformers: the attention's key bias (qkv bias entries 8-15) has a true gradient
# of zero (softmax ignores a constant added along the keys); Adam's steps on its float noise
# leave those entries ~1e-5 apart, every other weight and the losses match tightly.
TOLERANCES = {"timeseries_classification_from_scratch": (1e-4, 3e-3), "vision_involution": (1e-5, 1e-4),
              "vision_swin_transformers": (1e-5, 5e-5)}

# Ports whose training draws random numbers (dropout): compared are their `History.results`
# (evaluations from the copied initial weights), the History's keys and the weights' shapes.
EVALUATION_PARITY = [
    "vision_mobilevit",
    "vision_semisupervised_simclr",
    "vision_deeplabv3_plus",
    "vision_mixup",
    "structured_data_structured_data_classification_from_scratch",
    "timeseries_multivariate_timeseries_forecasting_using_lstm",
    "timeseries_lstm_vs_cnn_timeseries_classification",
    "timeseries_timeseries_forecasting_with_lstm_for_temperature_prediction",
    "audio_ctc_asr",
    "nlp_ner_transformers",
    "vision_cct",
    "vision_3d_image_classification",
    "nlp_neural_machine_translation_with_transformer",
    "guides_making_new_layers_and_models_via_subclassing",
    "generative_wgan_gp",
    "nlp_masked_language_modeling",
    "vision_mlp_image_classification",
    "guides_transfer_learning",
    "vision_vit_small_ds",
    "vision_perceiver_image_classification",
    "vision_image_classification_with_vision_transformer",
    "vision_pointnet",
    "vision_eanet",
    "structured_data_classification_with_grn_and_vsn",
    "keras_recipes_mixture_of_experts",
    "vision_gradient_centralization",
    "keras_recipes_sample_size_estimate",
    "keras_recipes_trainer_pattern",
    "guides_intro_to_keras_for_engineers",
    "keras_recipes_distillation_recipe",
    "vision_image_classification_from_scratch",
    "vision_mnist_moe",
]


def _run_both(name):
    module = importlib.import_module(f"tests.ports.{name}")
    theirs, ours, initial = [], [], []

    def record(model):
        theirs.append(model)
        initial.append([np.asarray(w) for w in model.get_weights()])

    def copy_in(model):
        model.set_weights(initial[len(ours)])
        ours.append(model)

    keras.utils.set_random_seed(0)
    expected = module.run(keras, on_model=record, shuffle=False)
    result = module.run(keraslike, on_model=copy_in, shuffle=False)
    return expected, result, theirs, ours


def _wrapped_fit(lib, before_fit):
    """Replaces `lib.Model.fit` by one calling `before_fit(model)` and training unshuffled."""
    original = lib.Model.fit

    def fit(self, *args, **kwargs):
        kwargs["shuffle"] = False
        before_fit(self)
        return original(self, *args, **kwargs)

    lib.Model.fit = fit
    return original


def _run_both_wrapped(name):
    module = importlib.import_module(f"tests.ports.{name}")
    theirs, ours, initial = [], [], []

    def record(model):
        theirs.append(model)
        initial.append([np.asarray(w) for w in model.get_weights()])

    def copy_in(model):
        model.set_weights(initial[len(ours)])
        ours.append(model)

    original = _wrapped_fit(keras, record)
    try:
        expected = module.run(keras)
    finally:
        keras.Model.fit = original
    original = _wrapped_fit(keraslike, copy_in)
    try:
        result = module.run(keraslike)
    finally:
        keraslike.Model.fit = original
    return expected, result, theirs, ours


def _flat(results):
    """`{name: History dict or evaluate dict}` flattened to `{"name/key": numbers}`."""
    return {f"{name}/{key}": np.asarray(value, dtype="float64")
            for name, logs in results.items() for key, value in logs.items()}


def _compare_results(expected, result):
    # A port may record what its callbacks saw (the log keys of each hook) in `History.log_keys`.
    assert getattr(result, "log_keys", None) == getattr(expected, "log_keys", None)
    extra_expected, extra_result = _flat(getattr(expected, "results", {})), _flat(getattr(result, "results", {}))
    assert sorted(extra_result) == sorted(extra_expected)
    for key in extra_expected:
        np.testing.assert_allclose(extra_result[key], extra_expected[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("name", EVALUATION_PARITY)
def test_port_evaluates_like_keras_from_the_same_weights(name):
    expected, result, theirs, ours = _run_both(name)
    assert getattr(expected, "results", None), "the port keeps no evaluations to compare"
    _compare_results(expected, result)
    assert sorted(result.history) == sorted(expected.history)
    assert len(ours) == len(theirs) > 0
    for a, b in zip(theirs, ours):
        assert [w.shape for w in b.get_weights()] == [np.shape(w) for w in a.get_weights()]


@pytest.mark.slow
@pytest.mark.parametrize("name", PARITY + FIT_WRAPPED_PARITY)
def test_port_trains_like_keras_from_the_same_weights(name):
    expected, result, theirs, ours = (_run_both_wrapped if name in FIT_WRAPPED_PARITY else _run_both)(name)
    assert all(len(w) > 0 for w in (m.get_weights() for m in theirs)), "a model was not built before fit"
    # A port may also keep the logs of its earlier fits and evaluations in `History.results`.
    _compare_results(expected, result)
    expected, result = expected.history, result.history
    history_rtol, weights_atol = TOLERANCES.get(name, (1e-5, 1e-5))
    assert sorted(result) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(result[key], expected[key], rtol=history_rtol, atol=1e-6, err_msg=key)
    assert len(ours) == len(theirs) > 0
    for k, (a, b) in enumerate(zip(theirs, ours)):
        wa, wb = a.get_weights(), b.get_weights()
        assert [w.shape for w in wb] == [np.shape(w) for w in wa], f"model {k}"
        for i, (x, y) in enumerate(zip(wa, wb)):
            np.testing.assert_allclose(y, np.asarray(x), rtol=1e-4, atol=weights_atol,
                                       err_msg=f"model {k} weight {i}")

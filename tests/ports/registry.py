"""The ported keras-io examples: module names under `tests.ports`, each with `run(keras)`."""

PORTS = [
    "vision_mnist_convnet",
    "nlp_text_classification_with_transformer",
    "timeseries_classification_from_scratch",
    "timeseries_anomaly_detection",
    "keras_recipes_antirectifier",
    "nlp_addition_rnn",
    "nlp_bidirectional_lstm_imdb",
    "timeseries_classification_transformer",
    "vision_autoencoder",
    "nlp_lstm_seq2seq",
    "keras_recipes_subclassing_conv_layers",
    "timeseries_weather_forecasting",
    "structured_data_imbalanced_classification",
    "vision_knowledge_distillation",
    "vision_siamese_contrastive",
    "nlp_pretrained_word_embeddings",
    "nlp_text_classification_from_scratch",
    "generative_text_generation_with_miniature_gpt",
    "nlp_multi_label_classification",
    "generative_lstm_character_level_text_generation",
    "generative_vae",
    "keras_recipes_endpoint_layer_pattern",
    "guides_custom_train_step_in_torch",
    "guides_custom_train_step_in_torch_gan",
    "vision_convmixer",
    "vision_oxford_pets_image_segmentation",
    "nlp_ner_transformers",
    "vision_cct",
    "vision_super_resolution_sub_pixel",
    "structured_data_collaborative_filtering_movielens",
    "generative_wgan_gp",
    "nlp_masked_language_modeling",
    "vision_mlp_image_classification",
    "nlp_text_classification_with_switch_transformer",
    "vision_conv_lstm",
    "vision_attention_mil_classification",
    "vision_3d_image_classification",
    "nlp_neural_machine_translation_with_transformer",
    "guides_functional_api",
    "guides_making_new_layers_and_models_via_subclassing",
    "guides_writing_your_own_callbacks",
    "guides_training_with_built_in_methods",
    "guides_working_with_rnns",
    "guides_understanding_masking_and_padding",
    "guides_sequential_model",
    "guides_serialization_and_saving",
    "keras_recipes_reproducibility_recipes",
    "guides_writing_a_custom_training_loop_in_torch",
    "generative_pixelcnn",
    "guides_transfer_learning",
    "vision_involution",
    "vision_vit_small_ds",
    "keras_recipes_approximating_non_function_mappings",
    "guides_customizing_saving_and_serialization",
    "vision_perceiver_image_classification",
    "vision_image_classification_with_vision_transformer",
    "vision_pointnet",
    "generative_vq_vae",
    "graph_gnn_citations",
    "keras_recipes_trainer_pattern",
    "structured_data_deep_neural_decision_forests",
    "vision_eanet",
    "structured_data_classification_with_grn_and_vsn",
    "vision_swin_transformers",
    "keras_recipes_mixture_of_experts",
    "timeseries_eeg_signal_classification",
    "vision_gradient_centralization",
    "keras_recipes_sample_size_estimate",
]

# Ports that run on Keras 3 but fail on keraslike because of a keraslike gap (the test is
# `xfail(strict=True)`: it starts failing the suite the day the gap is closed, so the entry is
# removed then). Each entry: (the exception type keraslike raises, the reason quoting it).
KNOWN_FAILURES = {
    "keras_recipes_trainer_pattern": (
        ValueError,
        'a functional model whose Input is (28, 28, 1) is fed (n, 28, 28) images: Keras 3 adds the '
        'trailing axis of size 1 (Functional._adjust_input_rank), keraslike raises "Input '
        '\'input_layer_1\' of model \'functional\' is incompatible with the model" '
        "(keraslike/models/functional.py `_check_input_shape`)",
    ),
    "structured_data_deep_neural_decision_forests": (
        TypeError,
        "a subclassed Model (NeuralDecisionTree) called on a KerasTensor is built by running its "
        "`call` on KerasTensors (keraslike/models/functional.py `Model.build`), where "
        "`ops.shape(x)[0]` is None and `ops.ones([batch_size, 1, 1])` raises TypeError; Keras "
        "runs `call` on placeholder-sized tensors (compute_output_spec) as keraslike does for "
        "subclassed layers (graph/shape_inference.py infer_output_spec)",
    ),
    "timeseries_eeg_signal_classification": (
        ValueError,
        'ModelCheckpoint("best_model.h5") writes a legacy HDF5 model in Keras 3 (with a warning); '
        "keraslike refuses it: it reads legacy .h5 models but does not write them. With a .keras "
        "path the port's evaluations match Keras exactly (and its training too, dropout off)",
    ),
}

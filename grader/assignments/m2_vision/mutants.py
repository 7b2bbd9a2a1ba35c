"""Realistic bugs in m2_vision, and the hidden checks each must fail (and no others).

The grader's own tests plant each bug in the solution, grade it, and require that
exactly these checks fail. PARTIAL is the half-done student of the demo.
"""

from grader.examples import Mutant, Partial

MUTANTS = [
    Mutant(
        "no_normalisation",
        "build_transforms",
        "T.ToTensor(), T.Normalize(mean, std)]",
        "T.ToTensor()]",
        ("eval_output_is_normalised_per_channel", "greyscale_becomes_three_channels"),
    ),
    Mutant(
        "resize_shorter_side",
        "build_transforms",
        "T.Resize((image_size, image_size))",
        "T.Resize(image_size)",
        ("greyscale_becomes_three_channels",),
    ),
    Mutant(
        "no_augmentation",
        "build_transforms",
        "steps.append(T.RandomAffine(",
        "(T.RandomAffine(",
        ("train_is_random_and_eval_is_not",),
    ),
    Mutant(
        "hard_coded_fc",
        "replace_head",
        "    name, old = find_classifier(model)\n",
        "    name, old = 'fc', model.fc\n",
        ("torchvision_resnet_and_mobilenet", "timm_efficientnet_and_vision_transformers"),
    ),
    Mutant(
        "head_copies_frozen_flag",
        "replace_head",
        "    setattr(model.get_submodule(parent_name), attribute, new)\n",
        "    new.requires_grad_(old.weight.requires_grad)\n"
        "    setattr(model.get_submodule(parent_name), attribute, new)\n",
        ("new_head_trains_in_a_frozen_model",),
    ),
    Mutant(
        "head_left_frozen",
        "freeze_backbone",
        "    for parameter in head.parameters():\n        parameter.requires_grad = True\n",
        "",
        ("torchvision_backbones_frozen", "timm_backbones_frozen_and_head_trainable"),
    ),
    Mutant(
        "head_not_unfrozen",
        "freeze_backbone",
        "    for parameter in model.parameters():\n        parameter.requires_grad = False\n"
        "    for parameter in head.parameters():\n        parameter.requires_grad = True\n",
        "    head_ids = {id(p) for p in head.parameters()}\n"
        "    for parameter in model.parameters():\n        if id(parameter) not in head_ids:\n"
        "            parameter.requires_grad = False\n",
        ("timm_backbones_frozen_and_head_trainable",),
    ),
    Mutant(
        "counts_state_dict",
        "count_parameters",
        "list(model.parameters())",
        "list(model.state_dict().values())",
        ("counts_of_a_partly_frozen_resnet", "shared_weights_counted_once"),
    ),
    Mutant(
        "counts_shared_twice",
        "count_parameters",
        "list(model.parameters())",
        "[p for _, p in model.named_parameters(remove_duplicate=False)]",
        ("shared_weights_counted_once",),
    ),
    Mutant(
        "blocks_minus_zero",
        "unfreeze_last_blocks",
        "    elif n >= 1:",
        "    elif n >= 0:",
        ("n_zero_trains_only_the_classifier",),
    ),
    Mutant(
        "stem_stays_frozen",
        "unfreeze_last_blocks",
        "        trainable = [model]\n",
        "        trainable = [model.conv_head, model.bn2, *stages, head]\n",
        ("n_beyond_the_stages_trains_everything",),
    ),
    Mutant(
        "forgot_conv_head",
        "unfreeze_last_blocks",
        "[model.conv_head, model.bn2, *stages[-n:], head]",
        "[*stages[-n:], head]",
        ("last_n_stages_and_conv_head",),
    ),
    Mutant(
        "adam_not_adamw",
        "make_optimizer",
        "torch.optim.AdamW(",
        "torch.optim.Adam(",
        ("adamw_with_discriminative_learning_rates",),
    ),
    Mutant(
        "frozen_in_optimizer",
        "make_optimizer",
        "if p.requires_grad and id(p) not in head_ids",
        "if id(p) not in head_ids",
        ("frozen_parameters_left_out", "empty_group_omitted"),
    ),
    Mutant(
        "empty_group_kept", "make_optimizer", '[g for g in groups if g["params"]]', "groups", ("empty_group_omitted",)
    ),
    Mutant("no_zero_grad", "train_one_epoch", "        optimizer.zero_grad()\n", "", ("parameters_after_one_epoch",)),
    Mutant(
        "mean_of_batch_means",
        "train_one_epoch",
        "total += loss.item() * len(targets)\n        count += len(targets)",
        "total += loss.item()\n        count += 1",
        ("mean_loss_per_sample_with_uneven_batches",),
    ),
    Mutant(
        "frozen_batchnorm_trains",
        "train_one_epoch",
        "                module.eval()",
        "                pass",
        ("frozen_batchnorm_keeps_its_statistics",),
    ),
    Mutant(
        "ignores_loss_fn",
        "train_one_epoch",
        "loss_fn = loss_fn or nn.CrossEntropyLoss()",
        "loss_fn = nn.CrossEntropyLoss()",
        ("custom_loss_and_training_mode",),
    ),
    Mutant(
        "confusion_transposed",
        "evaluate",
        "pairs = targets.cpu() * num_classes + predictions",
        "pairs = predictions * num_classes + targets.cpu()",
        ("confusion_matrix_rows_are_true_classes", "accuracy_and_per_class_accuracy"),
    ),
    Mutant("dropout_left_on", "evaluate", "    model.eval()\n", "", ("dropout_off_and_no_gradients",)),
    Mutant("gradients_tracked", "evaluate", "with torch.no_grad():", "if True:", ("dropout_off_and_no_gradients",)),
    Mutant(
        "logits_not_features",
        "extract_features",
        "captured.append(inputs[0].detach().cpu())",
        "captured.append(output.detach().cpu())",
        ("features_are_the_classifier_inputs",),
    ),
    Mutant(
        "extraction_in_train_mode",
        "extract_features",
        "    model.eval()\n",
        "",
        ("labels_in_order_and_evaluation_mode",),
    ),
]

PARTIAL = Partial(
    mutants=("frozen_in_optimizer", "blocks_minus_zero", "confusion_transposed"), unimplemented=("extract_features",)
)

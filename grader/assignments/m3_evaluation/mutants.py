"""Realistic bugs in m3_evaluation, and the hidden checks each must fail (and no others)."""

from grader.examples import Mutant, Partial

MUTANTS = [
    Mutant(
        "errors_on_small_class",
        "sample_per_class",
        "chosen.append(members[torch.randperm(len(members), generator=generator)[:n_per_class]])",
        "chosen.append(members[torch.randint(len(members), (n_per_class,), generator=generator)])",
        ("exactly_n_per_class_or_all_of_a_small_class", "no_index_twice"),
    ),
    Mutant(
        "global_random_state",
        "sample_per_class",
        "torch.randperm(len(members), generator=generator)",
        "torch.randperm(len(members))",
        ("seed_decides",),
    ),
    Mutant(
        "gap_sign_flipped",
        "negative_transfer_gap",
        "(transfer.mean() - scratch.mean())",
        "(scratch.mean() - transfer.mean())",
        ("gap_of_lists", "gap_of_tensors"),
    ),
    Mutant(
        "gap_of_sums",
        "negative_transfer_gap",
        "(transfer.mean() - scratch.mean()).item()",
        "(transfer.sum() - scratch.sum()).item() / len(transfer)",
        ("gap_of_lists", "gap_of_tensors"),
    ),
    Mutant(
        "bwt_includes_last_task",
        "backward_transfer",
        "(R[T - 1, : T - 1] - R.diagonal()[: T - 1]).mean()",
        "(R[T - 1, :] - R.diagonal()).sum() / (T - 1)",
        ("bwt_three_tasks", "bwt_four_tasks_as_tensor"),
    ),
    Mutant(
        "bwt_columns_for_rows",
        "backward_transfer",
        "R[T - 1, : T - 1]",
        "R[: T - 1, T - 1]",
        ("bwt_three_tasks", "bwt_four_tasks_as_tensor"),
    ),
    Mutant(
        "forgetting_sign",
        "forgetting",
        "float(acc_before) - float(acc_after)",
        "float(acc_after) - float(acc_before)",
        ("forgetting_is_the_drop",),
    ),
    Mutant(
        "drops_zero_eigenvalues",
        "logme",
        "- 0.5 * torch.log(alpha + beta * s).sum()",
        "- 0.5 * torch.log(alpha + beta * s[s > 1e-9 * s.max()]).sum()",
        ("logme_with_fewer_samples_than_features",),
    ),
    Mutant(
        "one_update_only",
        "logme",
        "for _ in range(10_000):",
        "for _ in range(1):",
        (
            "logme_with_more_samples_than_features",
            "logme_with_fewer_samples_than_features",
            "logme_averages_over_classes",
        ),
    ),
    Mutant(
        "no_epsilon",
        "logme",
        "(((y - F @ m) ** 2).sum() + 1e-5)",
        "(((y - F @ m) ** 2).sum())",
        ("logme_with_fewer_samples_than_features",),
    ),
    Mutant(
        "sums_over_classes",
        "logme",
        "return sum(evidences) / len(evidences)",
        "return sum(evidences)",
        (
            "logme_with_more_samples_than_features",
            "logme_with_fewer_samples_than_features",
            "logme_averages_over_classes",
        ),
    ),
    Mutant(
        "negative_log_likelihood",
        "logme",
        "return sum(evidences) / len(evidences)",
        "return -sum(evidences) / len(evidences)",
        (
            "logme_with_more_samples_than_features",
            "logme_with_fewer_samples_than_features",
            "logme_averages_over_classes",
            "logme_prefers_informative_features",
        ),
    ),
    Mutant(
        "exponential_average",
        "adapt_batchnorm",
        "        norm.momentum = None  # cumulative average over batches\n",
        "",
        ("statistics_are_a_cumulative_average_on_the_target", "dropout_off_momentum_restored_eval_mode"),
    ),
    Mutant(
        "statistics_not_reset",
        "adapt_batchnorm",
        "        norm.reset_running_stats()\n",
        "",
        ("statistics_are_a_cumulative_average_on_the_target",),
    ),
    Mutant(
        "whole_model_in_train_mode",
        "adapt_batchnorm",
        "    model.eval()\n    for norm in norms:",
        "    model.train()\n    for norm in norms:",
        ("dropout_off_momentum_restored_eval_mode",),
    ),
    Mutant(
        "momentum_left_none",
        "adapt_batchnorm",
        "        norm.momentum = momentum\n",
        "",
        ("dropout_off_momentum_restored_eval_mode",),
    ),
    Mutant(
        "adabn_by_gradient_steps",
        "adapt_batchnorm",
        "    with torch.no_grad():\n        for inputs, _ in loader:\n            model(inputs.to(device))",
        "    for inputs, _ in loader:\n        model(inputs.to(device)).sum().backward()",
        ("weights_unchanged",),
    ),
    Mutant(
        "no_half",
        "l2sp_penalty",
        "return alpha / 2 * shared + beta / 2 * head",
        "return alpha * shared + beta * head",
        ("penalty_value", "gradients_flow_to_the_right_parameters", "head_by_name_and_buffers_ignored"),
    ),
    Mutant(
        "detached",
        "l2sp_penalty",
        "return alpha / 2 * shared + beta / 2 * head",
        "return (alpha / 2 * shared + beta / 2 * head).detach()",
        ("gradients_flow_to_the_right_parameters",),
    ),
    Mutant(
        "prefix_without_dot",
        "l2sp_penalty",
        'name == head or name.startswith(head + ".")',
        "name.startswith(head)",
        ("penalty_value", "gradients_flow_to_the_right_parameters", "head_by_name_and_buffers_ignored"),
    ),
]

# every function feeds an experiment: the unimplemented one also costs the experiment checks that need it
PARTIAL = Partial(mutants=("global_random_state", "no_epsilon", "gap_of_sums"), unimplemented=("adapt_batchnorm",))

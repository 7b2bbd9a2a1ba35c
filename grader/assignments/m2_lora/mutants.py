"""Realistic bugs in m2_lora, and the hidden checks each must fail (and no others)."""

from grader.examples import Mutant, Partial

MUTANTS = [
    Mutant(
        "B_initialised_randomly",
        "LoRALinear",
        "self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, **like))",
        "self.lora_B = nn.Parameter(torch.randn(base.out_features, r, **like) * 0.01)",
        ("initialisation_like_peft",),
    ),
    Mutant(
        "scaling_alpha_not_over_r",
        "LoRALinear",
        "self.scaling = r, alpha, alpha / r",
        "self.scaling = r, alpha, alpha",
        ("initialisation_like_peft", "matches_peft_given_the_same_A_and_B"),
    ),
    Mutant(
        "base_left_trainable", "LoRALinear", "        self.base.requires_grad_(False)\n", "", ("only_A_and_B_train",)
    ),
    Mutant(
        "merged_without_scaling",
        "LoRALinear",
        "base.weight + self.scaling * self.lora_B @ self.lora_A",
        "base.weight + self.lora_B @ self.lora_A",
        ("merged_equals_unmerged",),
    ),
    Mutant(
        "dropout_on_output",
        "LoRALinear",
        "return self.base(x) + self.dropout(x) @ self.lora_A.T @ self.lora_B.T * self.scaling",
        "return self.dropout(self.base(x) + x @ self.lora_A.T @ self.lora_B.T * self.scaling)",
        ("dropout_on_the_lora_branch_only",),
    ),
    Mutant(
        "matches_full_names",
        "add_lora",
        'if isinstance(module, nn.Linear) and name.rpartition(".")[2] in target_modules]\n'
        "    model.requires_grad_(False)",
        "if isinstance(module, nn.Linear) and name in target_modules]\n    model.requires_grad_(False)",
        ("bert_with_a_trainable_head", "distilbert_and_llama"),
    ),
    Mutant(
        "head_not_saved",
        "add_lora",
        "            module.requires_grad_(True)\n",
        "            pass\n",
        ("bert_with_a_trainable_head",),
    ),
    Mutant(
        "wraps_any_module_by_name",
        "add_lora",
        'if isinstance(module, nn.Linear) and name.rpartition(".")[2] in target_modules]\n'
        "    model.requires_grad_(False)",
        'if name.rpartition(".")[2] in target_modules and hasattr(module, "weight")]\n    model.requires_grad_(False)',
        ("gpt2_conv1d_is_not_linear",),
    ),
    Mutant(
        "counts_in_times_out",
        "lora_parameter_count",
        "r * (module.in_features + module.out_features)",
        "r * module.in_features * module.out_features // max(module.in_features, module.out_features)",
        ("counts_for_encoders", "counts_for_decoders"),
    ),
    Mutant(
        "causal_lm_task",
        "peft_lora",
        "task_type=TaskType.SEQ_CLS",
        "task_type=TaskType.FEATURE_EXTRACTION",
        ("peft_trains_lora_and_the_head", "peft_configuration"),
    ),
    Mutant("alpha_as_rank", "peft_lora", "r=r, lora_alpha=alpha", "r=r, lora_alpha=r", ("peft_configuration",)),
    Mutant(
        "padding_as_token_zero",
        "mask_prompt_labels",
        "labels[attention_mask == 0] = -100",
        "labels[input_ids == 0] = -100",
        ("right_padding", "left_padding_with_pad_equal_to_eos"),
    ),
    Mutant(
        "prompt_from_row_start",
        "mask_prompt_labels",
        "labels[row, positions[: int(length)]] = -100",
        "labels[row, : int(length)] = -100",
        ("left_padding_with_pad_equal_to_eos", "empty_and_full_prompts"),
    ),
    Mutant(
        "labels_shifted",
        "mask_prompt_labels",
        "    return labels\n",
        "    return torch.cat([labels[:, 1:], torch.full_like(labels[:, :1], -100)], dim=1)\n",
        ("right_padding", "left_padding_with_pad_equal_to_eos", "empty_and_full_prompts"),
    ),
    Mutant(
        "edits_input_ids",
        "mask_prompt_labels",
        "labels = input_ids.clone()",
        "labels = input_ids",
        ("right_padding", "left_padding_with_pad_equal_to_eos", "empty_and_full_prompts"),
    ),
    Mutant(
        "last_column_not_last_token",
        "classify_with_lm",
        "last = (mask * torch.arange(mask.shape[1])).argmax(dim=1)",
        "last = torch.full((len(mask),), mask.shape[1] - 1)",
        ("right_padding_predictions",),
    ),
    Mutant(
        "length_minus_one",
        "classify_with_lm",
        "last = (mask * torch.arange(mask.shape[1])).argmax(dim=1)",
        "last = mask.sum(dim=1) - 1",
        ("left_padding_predictions",),
    ),
    Mutant(
        "last_token_of_label_word",
        "classify_with_lm",
        '(word, add_special_tokens=False)["input_ids"][0]',
        '(word, add_special_tokens=False)["input_ids"][-1]',
        ("first_token_of_each_label_word",),
    ),
]

PARTIAL = Partial(
    mutants=("merged_without_scaling", "alpha_as_rank", "last_token_of_label_word"),
    unimplemented=("mask_prompt_labels",),
)

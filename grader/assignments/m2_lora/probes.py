"""m2_lora probes: the student's LoRA on randomly initialised transformers (no weights needed).

Tiny BERT, DistilBERT, GPT-2 and Llama configurations keep every probe fast; a
word-level tokenizer built in memory stands in for a real one where one is needed.
Probes return outputs, weights and gradients on inputs drawn from their own seeded
generators (whatever the student's code draws from the global one), and the checks
compare them with the reference: no probe decides "equal" or "unchanged" itself.
"""

import torch
from probing import ProbeFailure, expect, probe, reinitialise
from torch import nn


def tiny(kind):
    import transformers as t

    torch.manual_seed(0)
    if kind == "bert":
        return t.BertForSequenceClassification(
            t.BertConfig(
                vocab_size=64,
                hidden_size=16,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=32,
                num_labels=3,
            )
        )
    if kind == "distilbert":
        return t.DistilBertForSequenceClassification(
            t.DistilBertConfig(vocab_size=64, dim=16, n_layers=2, n_heads=2, hidden_dim=32, num_labels=2)
        )
    if kind == "gpt2":
        return t.GPT2LMHeadModel(t.GPT2Config(vocab_size=64, n_embd=16, n_layer=2, n_head=2, n_positions=32))
    if kind == "llama":
        return t.LlamaForCausalLM(
            t.LlamaConfig(
                vocab_size=64,
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                num_key_value_heads=1,
                max_position_embeddings=64,
            )
        )
    if kind == "gpt_neox":  # fused query_key_value, and dense, dense_h_to_4h, dense_4h_to_h: names inside names
        return t.GPTNeoXForCausalLM(
            t.GPTNeoXConfig(
                vocab_size=64,
                hidden_size=16,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=32,
                max_position_embeddings=64,
            )
        )
    raise ValueError(kind)


TARGETS = {
    "bert": ["query", "value"],
    "distilbert": ["q_lin", "v_lin"],
    "gpt2": ["c_attn", "c_proj"],
    "llama": ["q_proj", "v_proj", "down_proj"],
    # a name matches a module when it is the module's own name, not part of it: only attention.dense here
    "gpt_neox": ["query", "dense"],
}


# --- LoRALinear ----------------------------------------------------------------------------------
def lora_layer(student, base, r=4, alpha=8, dropout=0.0):
    layer = expect(student.LoRALinear(base, r, alpha, dropout), nn.Module, "a LoRALinear")
    for name in ("base", "lora_A", "lora_B", "scaling"):
        if not hasattr(layer, name):
            raise ProbeFailure(f"LoRALinear has no attribute `{name}`")
    return layer


def draws(seed):
    return torch.Generator().manual_seed(seed)


def set_adapters(layer, seed):
    """A and B from the probe's own generator: outputs then depend on the layer's arithmetic alone."""
    g = draws(seed)
    with torch.no_grad():
        layer.lora_A.copy_(torch.randn(layer.lora_A.shape, generator=g))
        layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=g))


def parts(layer, x):
    """Everything the layer's output follows from: the checks recompute what it should be."""
    base = layer.base
    return {
        "x": x,
        "base_weight": base.weight.detach().clone(),
        "base_bias": base.bias.detach().clone() if base.bias is not None else None,
        "A": layer.lora_A.detach().clone(),
        "B": layer.lora_B.detach().clone(),
        "scaling": float(layer.scaling),
    }


@probe("LoRALinear", "initialisation")
def _(student, device):
    layer = lora_layer(student, nn.Linear(64, 24), r=8, alpha=32)
    x = torch.randn(5, 64, generator=draws(1))
    return {
        **parts(layer, x),
        "output": layer(x).detach(),
        "A_type": type(layer.lora_A).__name__,
        "B_type": type(layer.lora_B).__name__,
    }


@probe("LoRALinear", "matches_peft")
def _(student, device):
    from peft import LoraConfig, get_peft_model

    class One(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(12, 7)

        def forward(self, x):
            return self.proj(x)

    peft_model = get_peft_model(One(), LoraConfig(r=3, lora_alpha=5, target_modules=["proj"]))
    peft_layer = peft_model.base_model.model.proj
    with torch.no_grad():
        peft_layer.lora_B["default"].weight.copy_(torch.randn(7, 3, generator=draws(2)))
    x = torch.randn(4, 2, 12, generator=draws(3))
    peft_output = peft_model(x).detach()  # the check uses the reference run's copy of this, not the student's
    layer = lora_layer(student, peft_layer.base_layer, r=3, alpha=5)
    with torch.no_grad():
        layer.lora_A.copy_(peft_layer.lora_A["default"].weight)
        layer.lora_B.copy_(peft_layer.lora_B["default"].weight)
    return {"output": layer(x).detach(), "peft": peft_output}


@probe("LoRALinear", "merged")
def _(student, device):
    layer = lora_layer(student, nn.Linear(10, 6), r=2, alpha=3)
    set_adapters(layer, 4)
    x = torch.randn(3, 10, generator=draws(5))
    found = parts(layer, x)
    merged = layer.merged()
    if not isinstance(merged, nn.Linear) or type(merged) is not nn.Linear:
        raise ProbeFailure(f"merged() should return a plain nn.Linear, got {type(merged).__name__}")
    found.update(
        merged=merged(x).detach(),
        unmerged=layer(x).detach(),
        merged_bias=merged.bias.detach().clone() if merged.bias is not None else None,
    )
    with torch.no_grad():
        merged.weight.add_(1.0)  # a merged layer that shares its weight with the base would move the base too
    found["base_weight_after_edit"] = layer.base.weight.detach().clone()
    return found


@probe("LoRALinear", "gradients")
def _(student, device):
    layer = lora_layer(student, nn.Linear(8, 5), r=2, alpha=4)
    set_adapters(layer, 6)
    x = torch.randn(6, 8, generator=draws(7))
    found = parts(layer, x)
    layer(x).pow(2).sum().backward()
    parameters = list(nn.Module.named_parameters(layer))
    return {
        **found,
        "trainable": sorted(n for n, p in parameters if p.requires_grad),
        "grads": {n: p.grad.detach().clone() for n, p in parameters if p.grad is not None},
    }


@probe("LoRALinear", "dropout_on_branch")
def _(student, device):
    layer = lora_layer(student, nn.Linear(16, 16), r=4, alpha=4, dropout=0.5)
    x = torch.randn(32, 16, generator=draws(8))
    layer.train()
    with torch.no_grad():
        layer.lora_B.zero_()  # the branch adds nothing: what comes out is the base's output, dropout or not
    zero_branch = layer(x).detach()
    set_adapters(layer, 9)
    found = {**parts(layer, x), "zero_branch_training": zero_branch, "training": layer(x).detach()}
    layer.eval()
    found["eval"], found["eval_again"] = layer(x).detach(), layer(x).detach()
    return found


# --- add_lora and lora_parameter_count ----------------------------------------------------------------
def injection(student, kind, modules_to_save=()):
    model = tiny(kind)
    model = expect(
        student.add_lora(model, TARGETS[kind], 4, 8, 0.0, modules_to_save),
        nn.Module,
        "what add_lora returns (the model)",
    )
    wrapped = sorted(n for n, m in nn.Module.named_modules(model) if hasattr(m, "lora_A") and hasattr(m, "lora_B"))
    parameters = list(nn.Module.named_parameters(model))
    return model, {
        "wrapped": wrapped,
        "trainable": sorted(n for n, p in parameters if p.requires_grad),
        "lora_parameters": sum(p.numel() for n, p in parameters if "lora_" in n),
    }


@probe("add_lora", "bert_with_head")
def _(student, device):
    return injection(student, "bert", modules_to_save=("classifier",))[1]


@probe("add_lora", "distilbert_and_llama")
def _(student, device):
    return {kind: injection(student, kind)[1] for kind in ("distilbert", "llama", "gpt_neox")}


@probe("add_lora", "gpt2_conv1d_untouched")
def _(student, device):
    model, facts = injection(student, "gpt2")
    model.eval()
    tokens = torch.randint(0, 64, (2, 9), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        facts["logits"] = model(tokens).logits.detach()
    return facts


@probe("lora_parameter_count", "encoders")
def _(student, device):
    return {
        kind: int(expect(student.lora_parameter_count(tiny(kind), TARGETS[kind], r), int, "the count"))
        for kind, r in (("bert", 4), ("distilbert", 16))
    }


@probe("lora_parameter_count", "decoders")
def _(student, device):
    counts = {
        kind: int(expect(student.lora_parameter_count(tiny(kind), TARGETS[kind], 8), int, "the count"))
        for kind in ("llama", "gpt2", "gpt_neox")
    }
    counts["llama_lm_head"] = int(student.lora_parameter_count(tiny("llama"), ["lm_head"], 2))
    return counts


# --- peft_lora -----------------------------------------------------------------------------------------
@probe("peft_lora", "bert")
def _(student, device):
    from peft import PeftModel

    wrapped = student.peft_lora(tiny("bert"), 4, 12, ["query", "value"], 0.0)
    if not isinstance(wrapped, PeftModel):
        raise ProbeFailure(f"peft_lora should return a peft PeftModel (get_peft_model), got {type(wrapped).__name__}")
    config = wrapped.peft_config["default"]
    return {
        "trainable": sorted(n for n, p in wrapped.named_parameters() if p.requires_grad),
        # TaskType.SEQ_CLS or the string "SEQ_CLS": peft accepts both
        "task_type": str(getattr(config.task_type, "value", config.task_type)),
        "r": int(config.r),
        "alpha": float(config.lora_alpha),
        "targets": sorted(config.target_modules),
    }


# --- mask_prompt_labels -------------------------------------------------------------------------------
def masked(student, ids, mask, lengths):
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    labels = expect(student.mask_prompt_labels(ids, mask, lengths), torch.Tensor, "the labels")
    # the inputs as given, for the checks' hints (the reference run's copy is the one they read)
    return {
        "labels": labels.detach().clone(),
        "input_ids_after": ids.clone(),
        "attention_mask": mask.clone(),
        "prompt_lengths": [int(n) for n in lengths],
    }


@probe("mask_prompt_labels", "right_padding")
def _(student, device):
    return masked(
        student,
        [[5, 6, 7, 8, 9, 2, 2], [5, 6, 7, 2, 2, 2, 2], [5, 6, 7, 8, 9, 10, 11]],
        [[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1]],
        [2, 1, 4],
    )


@probe("mask_prompt_labels", "left_padding_pad_is_eos")
def _(student, device):
    eos = 2  # padding with the end-of-text token: only the mask tells padding from a real eos
    return masked(
        student,
        [[eos, eos, 5, 6, 7, eos], [eos, 5, 6, 7, 8, eos], [5, 6, 7, 8, 9, eos]],
        [[0, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]],
        [1, 3, 2],
    )


@probe("mask_prompt_labels", "edge_lengths")
def _(student, device):
    return masked(
        student,
        [[5, 6, 7, 0], [5, 6, 7, 8], [0, 0, 5, 6]],
        [[1, 1, 1, 0], [1, 1, 1, 1], [0, 0, 1, 1]],
        torch.tensor([0, 4, 2]),
    )


# --- classify_with_lm ---------------------------------------------------------------------------------
WORDS = [
    "<pad>",
    "<eos>",
    "review",
    ":",
    "good",
    "bad",
    "film",
    "plot",
    "great",
    "awful",
    "sentiment",
    "positive",
    "negative",
    "very",
    "not",
    "the",
    "story",
    "acting",
]


def word_tokenizer(padding_side, pad_is_eos):
    """A whitespace word-level tokenizer, made in memory: no files, same ids everywhere."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<eos>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # a causal LM's tokenizer returns no token_type_ids: `model(**tokenizer(...))` must work, as with SmolLM2's
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<eos>",
        padding_side=padding_side,
        model_input_names=["input_ids", "attention_mask"],
    )
    if not pad_is_eos:
        tokenizer.pad_token = "<pad>"
    return tokenizer


PROMPTS = [
    "review : great film sentiment :",
    "review : awful plot not good sentiment :",
    "review : good sentiment :",
    "review : the story very bad the acting very awful sentiment :",
    "sentiment :",
]
# all of one length: no padding, so only the choice of label token can go wrong
EVEN_PROMPTS = [
    "review : great film sentiment :",
    "review : awful plot sentiment :",
    "review : not good sentiment :",
    "review : very bad sentiment :",
    "review : the acting sentiment :",
]


def predictions(student, padding_side, pad_is_eos, words, prompts=PROMPTS):
    import transformers as t

    model = reinitialise(
        t.LlamaForCausalLM(
            t.LlamaConfig(
                vocab_size=len(WORDS),
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                pad_token_id=0,
            )
        ),
        seed=3,
        scale=0.5,
    )
    predicted = student.classify_with_lm(model, word_tokenizer(padding_side, pad_is_eos), prompts, words)
    predicted = expect(predicted, torch.Tensor, "what classify_with_lm returns")
    return {"predicted": predicted.detach().clone(), "dtype": str(predicted.dtype)}


@probe("classify_with_lm", "right_padding")
def _(student, device):
    return predictions(student, "right", False, ["negative", "positive"])


@probe("classify_with_lm", "left_padding_pad_is_eos")
def _(student, device):
    return predictions(student, "left", True, ["negative", "positive"])


@probe("classify_with_lm", "first_token_of_label_words")
def _(student, device):
    return predictions(student, "right", False, ["not good", "very good", "awful"], EVEN_PROMPTS)

"""Tiny real models for tests: a BPE tokenizer and Qwen2/Llama/GPT-2 models built from configs.

Nothing is downloaded. A model can be trained for a few seconds to memorise a small corpus
of Python, so that its greedy completions are code rather than noise.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

FIM_TOKENS = ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"]
END = "<|endoftext|>"

CORPUS = [
    'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n'
    '        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n',
    'def add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n',
    "def read_port(path):\n    # read the config file and return the port as an int\n"
    "    with open(path) as handle:\n        return int(handle.read().strip())\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n"
    "    def push(self, item):\n        self.items.append(item)\n\n"
    "    def pop(self):\n        return self.items.pop()\n",
    "def is_even(n):\n    return n % 2 == 0\n",
    'def square(x):\n    """Return x squared.\n\n    >>> square(3)\n    9\n    """\n'
    "    return x * x\n",
    "import os\n\n\ndef list_python_files(folder):\n    names = os.listdir(folder)\n"
    "    return [name for name in names if name.endswith('.py')]\n",
]


def train_tokenizer(with_fim: bool = True, vocab_size: int = 420) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    special = [END, *(FIM_TOKENS if with_fim else [])]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS * 4, trainer=trainer)
    return tokenizer


def tiny_config(family: str, vocab_size: int, eos_id: int):
    from transformers import GPT2Config, LlamaConfig, Qwen2Config

    common = {"vocab_size": vocab_size, "bos_token_id": eos_id, "eos_token_id": eos_id,
              "pad_token_id": eos_id}
    if family == "gpt2":
        return GPT2Config(n_embd=96, n_layer=2, n_head=4, n_positions=512, **common)
    cls = {"qwen2": Qwen2Config, "llama": LlamaConfig}[family]
    return cls(hidden_size=96, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=False,
               **common)


def memorize(model, tokenizer: Tokenizer, steps: int = 300, seed: int = 0) -> None:
    """Train briefly on the corpus (each text followed by the end token)."""
    torch.manual_seed(seed)
    end = tokenizer.token_to_id(END)
    rows = [[*tokenizer.encode(text).ids, end] for text in CORPUS]
    width = max(len(r) for r in rows)
    batch = torch.full((len(rows), width), end, dtype=torch.long)
    mask = torch.zeros_like(batch)
    for i, row in enumerate(rows):
        batch[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    labels = batch.masked_fill(mask == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=batch, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def build_model(family: str, tokenizer: Tokenizer, trained: bool, seed: int = 0):
    from transformers import AutoModelForCausalLM, GenerationConfig

    torch.manual_seed(seed)
    eos = tokenizer.token_to_id(END)
    model = AutoModelForCausalLM.from_config(
        tiny_config(family, tokenizer.get_vocab_size(), eos)
    )
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=eos,
                                               bos_token_id=eos)
    if trained:
        memorize(model, tokenizer)
    return model.eval()


def build_tiny_bundle(
    family: str, folder: Path, trained: bool = True, with_fim: bool = True,
    quantize: str = "none",
):
    """Write a bundle for a tiny model into ``folder``; return (bundle path, model, tokenizer)."""
    from tenon_train.export.pipeline import ExportConfig, export_model

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(with_fim)
    tokenizer_file = folder / "tokenizer.json"
    tokenizer.save(str(tokenizer_file))
    model = build_model(family, tokenizer, trained)
    cfg = ExportConfig(output=folder / "bundle", name=f"tiny-{family}", quantize=quantize,
                       progress=False, provenance={"base": {"source": "tests (tiny)"}})
    path = export_model(model, tokenizer_file, cfg)
    return path, model, tokenizer

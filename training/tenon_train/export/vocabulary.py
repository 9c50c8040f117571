"""Vocabulary facts for the manifest, read from ``tokenizer.json`` and the model config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from tenon.bundle import FimSpec, Vocabulary

FIM_STYLES = (
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
)
END_TOKENS = ("<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>")


def single_token(tokenizer: Tokenizer, text: str) -> int | None:
    token_id = tokenizer.token_to_id(text)
    if token_id is None:
        return None
    return token_id if tokenizer.encode(text, add_special_tokens=False).ids == [token_id] else None


def find_fim(tokenizer: Tokenizer) -> FimSpec | None:
    for style in FIM_STYLES:
        ids = [single_token(tokenizer, text) for text in style]
        if all(i is not None for i in ids):
            return FimSpec(style[0], style[1], style[2], (ids[0], ids[1], ids[2]))
    return None


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]


def vocabulary_facts(tokenizer_file: Path, config: Any, generation_config: Any) -> Vocabulary:
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    eos = _ids(getattr(generation_config, "eos_token_id", None)) + _ids(config.eos_token_id)
    end_token = next((t for t in END_TOKENS if tokenizer.token_to_id(t) is not None), None)
    if end_token is None:
        if not eos:
            raise ValueError("the tokenizer has no end-of-text token and the config no EOS id")
        end_token = tokenizer.id_to_token(eos[0])
    eos.append(tokenizer.token_to_id(end_token))
    vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
    eos_ids = tuple(sorted({i for i in eos if 0 <= i < max(vocab_size, config.vocab_size)}))
    special = tuple(sorted(
        token.content for token in tokenizer.get_added_tokens_decoder().values() if token.special
    ))
    stop_ids = tuple(sorted({tokenizer.token_to_id(t) for t in special} - set(eos_ids)))
    return Vocabulary(
        file="tokenizer.json",
        eos_ids=eos_ids,
        stop_ids=stop_ids,
        special_tokens=special,
        fim=find_fim(tokenizer),
        end_token=end_token,
    )

"""The bundle's tokenizer (``tokenizer.json``), through the `tokenizers` library only."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from tenon.bundle import BundleError, Vocabulary
from tenon.inference.healing import TokenTexts


class TextCodec:
    """Encode and decode text with a bundle's tokenizer; special tokens never leak out."""

    def __init__(self, tokenizer: Tokenizer, vocabulary: Vocabulary) -> None:
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self._texts: TokenTexts | None = None
        self._lock = threading.Lock()
        added = tokenizer.get_added_tokens_decoder()
        self.special_ids = frozenset(i for i, token in added.items() if token.special)

    @classmethod
    def load(cls, path: Path, vocabulary: Vocabulary) -> TextCodec:
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the library raises a bare Exception for bad files
            raise BundleError(f"cannot read tokenizer {path.name}: {exc}") from exc
        codec = cls(tokenizer, vocabulary)
        codec.check_vocabulary()
        return codec

    def check_vocabulary(self) -> None:
        """The manifest's FIM and end tokens must be single tokens of this tokenizer."""
        fim = self.vocabulary.fim
        if fim is not None:
            for text, expected in zip((fim.prefix, fim.suffix, fim.middle), fim.ids, strict=True):
                if self.tokenizer.token_to_id(text) != expected:
                    raise BundleError(
                        f"tokenizer mismatch: FIM token {text!r} is not id {expected} in "
                        "tokenizer.json; the tokenizer does not belong to this model."
                    )
        end_id = self.tokenizer.token_to_id(self.vocabulary.end_token)
        if end_id is None or end_id not in self.vocabulary.eos_ids:
            raise BundleError(
                f"tokenizer mismatch: end token {self.vocabulary.end_token!r} is not one of "
                f"the manifest's EOS ids {list(self.vocabulary.eos_ids)}."
            )

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(valid_unicode(text), add_special_tokens=False).ids

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def token_texts(self) -> TokenTexts:
        """Every token's text, for token healing (built on first use)."""
        with self._lock:
            if self._texts is None:
                size = self.tokenizer.get_vocab_size(with_added_tokens=True)
                texts = self.tokenizer.decode_batch([[i] for i in range(size)],
                                                    skip_special_tokens=False)
                self._texts = TokenTexts(texts)
            return self._texts


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (JSON allows them, the tokenizer does not) as U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text

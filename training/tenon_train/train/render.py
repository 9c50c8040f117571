"""Examples rendered exactly as the server renders a request, plus the target.

The prompt is ``tenon.context.prompt.build_prompt`` (the server's budgets and cutting) over
``tenon.prompt_format``; the target is ``render_target(middle, end_token)``, so the model
learns to write the middle and then stop. Prompt and target are tokenized together (as the
server's token healing lets the model choose the tokens across the cursor); the loss covers
exactly the tokens that reach past the prompt, and the end token.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Tokenizer

from tenon.context.prompt import Budgets, build_prompt
from tenon.prompt_format import FimTokens, render_target
from tenon_train.dataset.examples import Example

IGNORE = -100


@dataclass(frozen=True)
class Rendered:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]  # IGNORE on prompt tokens
    kind: str

    @property
    def first_target(self) -> int:
        return next(i for i, label in enumerate(self.labels) if label != IGNORE)

    @property
    def target_tokens(self) -> int:
        return sum(label != IGNORE for label in self.labels)


@dataclass(frozen=True)
class Renderer:
    tokenizer: Tokenizer
    fim: FimTokens | None
    end_token: str
    budgets: Budgets
    max_target_tokens: int

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def prompt_text(self, example: Example) -> str:
        return build_prompt(example.prefix, example.suffix, self.budgets, self.count,
                            self.fim).text

    def render(self, example: Example) -> Rendered | None:
        """Token ids and labels, or None when the target is longer than allowed."""
        prompt = self.prompt_text(example)
        encoded = self.tokenizer.encode(prompt + render_target(example.middle, self.end_token),
                                        add_special_tokens=False)
        ids = encoded.ids
        first = next((i for i, (_, end) in enumerate(encoded.offsets) if end > len(prompt)),
                     len(ids))
        end_id = self.tokenizer.token_to_id(self.end_token)
        if first >= len(ids) or ids[-1] != end_id or len(ids) - first > self.max_target_tokens:
            return None
        labels = (IGNORE,) * first + tuple(ids[first:])
        return Rendered(tuple(ids), labels, example.kind)


def renderer_for(tokenizer_file, config, generation_config, budgets: Budgets,
                 max_target_tokens: int) -> Renderer:
    """The renderer for a model: its FIM tokens and end token as the manifest will say."""
    from tenon_train.export.vocabulary import vocabulary_facts

    vocabulary = vocabulary_facts(tokenizer_file, config, generation_config)
    fim = vocabulary.fim.tokens() if vocabulary.fim else None
    return Renderer(Tokenizer.from_file(str(tokenizer_file)), fim, vocabulary.end_token, budgets,
                    max_target_tokens)

"""Training examples render exactly like the server's prompts, with loss on the target only."""

from tenon.context.prompt import Budgets, build_prompt
from tenon.prompt_format import FimTokens
from tenon_train.dataset.examples import Example
from tenon_train.train.render import IGNORE, Renderer
from tests.support.tiny import END, train_tokenizer

FIM = FimTokens("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")


def example(suffix="\n\n\ndef is_even(n):\n    return n % 2 == 0\n"):
    return Example("body", "g", "p.py", "MIT", "test",
                   'def add(a, b):\n    """Return the sum of a and b."""\n    ', "return a + b",
                   suffix)


def renderer(budgets=None, max_target=64):
    return Renderer(train_tokenizer(), FIM, END, budgets or Budgets(64, 32, 0), max_target)


def test_fim_example_renders_the_server_prompt_then_the_middle_and_the_end_token():
    r = renderer()
    ex = example()
    rendered = r.render(ex)
    prompt = build_prompt(ex.prefix, ex.suffix, r.budgets, r.count, FIM)
    assert prompt.fim
    tokenizer = r.tokenizer
    text = tokenizer.decode(list(rendered.input_ids), skip_special_tokens=False)
    assert text == prompt.text + "return a + b" + END
    first = rendered.first_target
    assert all(label == IGNORE for label in rendered.labels[:first])
    assert list(rendered.labels[first:]) == list(rendered.input_ids[first:])
    assert rendered.input_ids[first - 1] == tokenizer.token_to_id("<|fim_middle|>")
    assert rendered.input_ids[-1] == tokenizer.token_to_id(END)
    assert tokenizer.decode(list(rendered.input_ids[first:-1])) == "return a + b"


def test_plain_prompt_when_nothing_follows_the_cursor():
    r = renderer()
    rendered = r.render(example(suffix="\n"))
    text = r.tokenizer.decode(list(rendered.input_ids), skip_special_tokens=False)
    assert "<|fim_prefix|>" not in text
    assert text == example().prefix + "return a + b" + END
    target = r.tokenizer.decode(list(rendered.input_ids[rendered.first_target:]),
                                skip_special_tokens=False)
    assert target.endswith("return a + b" + END)  # may start inside the cursor's whitespace


def test_prompts_are_cut_to_the_budgets_and_long_targets_are_refused():
    long_prefix = "".join(f"x{i} = {i}\n" for i in range(200))
    ex = Example("fim-span", "g", "p.py", "MIT", "t", long_prefix, "y = 1", "\nz = 2\n")
    r = renderer(Budgets(16, 8, 0))
    rendered = r.render(ex)
    assert rendered.first_target < 16 + 8 + 8
    assert renderer(max_target=2).render(example()) is None

from tenon.prompt_format import (
    ContextSnippet,
    FimTokens,
    PromptParts,
    render_prompt,
    render_target,
    uses_fim,
)

FIM = FimTokens("<P>", "<S>", "<M>")


def test_fim_layout_is_prefix_suffix_middle():
    parts = PromptParts(prefix="def f():\n    ", suffix="\nprint(f())\n")
    assert render_prompt(parts, FIM) == "<P>def f():\n    <S>\nprint(f())\n<M>"


def test_no_fim_tokens_means_prefix_only():
    parts = PromptParts(prefix="x = ", suffix="\ny = 2\n")
    assert render_prompt(parts, None) == "x = "
    assert not uses_fim(parts, None)


def test_blank_suffix_is_not_fim():
    parts = PromptParts(prefix="x = ", suffix="  \n\n")
    assert render_prompt(parts, FIM) == "x = "


def test_context_snippets_come_first_inside_the_prefix():
    parts = PromptParts(prefix="y = helper()\n", suffix="z\n",
                        context=(ContextSnippet("util.py", "def helper():\n    return 1\n"),))
    text = render_prompt(parts, FIM)
    assert text.startswith("<P># file: util.py\ndef helper():\n    return 1\n\ny = helper()")


def test_target_ends_with_end_token():
    assert render_target("return 1", "<|endoftext|>") == "return 1<|endoftext|>"

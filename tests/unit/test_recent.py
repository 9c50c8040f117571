"""Recent offers answer only when the user is typing through them; anchors likewise."""

from __future__ import annotations

from tenon.context.prompt import BuiltPrompt
from tenon.context.snapshot import Snapshot
from tenon.inference.prompt_anchor import PromptAnchors
from tenon.inference.recent import RecentCompletions
from tenon.prompt_format import PromptParts

HEAD = "def total(items):\n    return sum(it"
TAIL = ")\n\n\nprint(total([1, 2]))\n"
URI = "file:///a.py"


def snap(head: str = HEAD, tail: str = TAIL, uri: str = URI) -> Snapshot:
    return Snapshot(uri, 1, "python", head + tail, len(head))


def offered(text: str = "em.price for item in items") -> RecentCompletions:
    recent = RecentCompletions()
    recent.remember(snap(), text, "line", "settings")
    return recent


def test_typing_the_start_of_the_suggestion_gets_the_rest():
    reuse = offered().lookup(snap(HEAD + "em.pr"), "settings")
    assert reuse is not None
    assert (reuse.text, reuse.typed, reuse.mode) == ("ice for item in items", "em.pr", "line")


def test_the_same_request_again_gets_the_same_suggestion():
    reuse = offered().lookup(snap(), "settings")
    assert reuse is not None and reuse.text == "em.price for item in items"


def test_typing_something_else_gets_nothing():
    assert offered().lookup(snap(HEAD + "x"), "settings") is None


def test_typing_the_whole_suggestion_gets_nothing():
    assert offered("em").lookup(snap(HEAD + "em"), "settings") is None


def test_a_change_after_the_cursor_gets_nothing():
    assert offered().lookup(snap(HEAD + "em", TAIL + "# more\n"), "settings") is None


def test_a_change_before_the_old_cursor_gets_nothing():
    changed = HEAD.replace("total", "summa")  # same length, other text
    assert offered().lookup(snap(changed + "em"), "settings") is None


def test_other_settings_or_another_document_get_nothing():
    recent = offered()
    assert recent.lookup(snap(HEAD + "em"), "other settings") is None
    assert recent.lookup(snap(HEAD + "em", uri="file:///b.py"), "settings") is None


def test_the_newest_matching_offer_wins_and_old_ones_are_forgotten():
    recent = RecentCompletions(size=2)
    recent.remember(snap(), "em.price", "line", "s")
    recent.remember(snap(HEAD + "em"), ".cost for item in items", "line", "s")
    reuse = recent.lookup(snap(HEAD + "em.co"), "s")
    assert reuse is not None and reuse.text == "st for item in items"
    recent.remember(snap("x = 1\n", ""), "y = 2", "line", "s")
    recent.remember(snap("x = 2\n", ""), "y = 3", "line", "s")
    assert recent.lookup(snap(HEAD + "em.co"), "s") is None


def fim_prompt(text: str = "<pre>P<suf>S<mid>") -> BuiltPrompt:
    return BuiltPrompt(text, PromptParts(prefix="P", suffix="S"), fim=True)


def test_typing_at_the_cursor_keeps_the_fim_prompt():
    anchors = PromptAnchors()
    built = []

    def build():
        built.append(1)
        return fim_prompt()

    first, typed = anchors.prompt_for(snap(), "line", "k", build)
    again, typed_again = anchors.prompt_for(snap(HEAD + "em.pr"), "line", "k", build)
    assert (typed, typed_again) == ("", "em.pr")
    assert again is first and len(built) == 1


def test_a_new_line_a_change_elsewhere_or_other_settings_build_a_new_prompt():
    anchors = PromptAnchors()
    calls = []

    def build():
        calls.append(1)
        return fim_prompt(f"<pre>{len(calls)}<suf>S<mid>")

    anchors.prompt_for(snap(), "line", "k", build)
    for snapshot, key in ((snap(HEAD + "em\n    "), "k"), (snap(HEAD + "e", TAIL + "#"), "k"),
                          (snap(HEAD + "e"), "other")):
        anchors.prompt_for(snap(), "line", "k", build)  # anchor again at the start
        before = len(calls)
        _, typed = anchors.prompt_for(snapshot, "line", key, build)
        assert typed == "" and len(calls) == before + 1


def test_plain_prompts_are_not_anchored():
    anchors = PromptAnchors()

    def build():
        return BuiltPrompt("P", PromptParts(prefix="P"), fim=False)

    anchors.prompt_for(snap(), "line", "k", build)
    _, typed = anchors.prompt_for(snap(HEAD + "em"), "line", "k", build)
    assert typed == ""

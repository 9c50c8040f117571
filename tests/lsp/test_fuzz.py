"""A short seeded protocol fuzz against the real server (the 10,000-message run is
bench/reliability_fuzz.py): hostile framing, wrong types, unknown methods, positions
outside documents, surrogates, CR/CRLF, a 10 MB document; for UTF-16, UTF-8 and UTF-32
clients. No crash, every identifiable request answered, no internal error, the same
completion afterwards, and no document text in the log."""

from __future__ import annotations

import pytest

from tests.support.fuzz_session import fuzz_session


@pytest.mark.parametrize(("encoding", "count", "seed"),
                         [("utf-16", 800, 101), ("utf-8", 300, 102), ("utf-32", 300, 103)])
def test_fuzzed_protocol_input(tiny_qwen, tmp_path, encoding, count, seed):
    encodings = None if encoding == "utf-16" else [encoding]
    figures = fuzz_session(tiny_qwen.path, tmp_path / "home", tmp_path / "server.log", seed,
                           count, encodings, big_every=count // 2)
    assert figures["negotiatedEncoding"] == encoding
    assert figures["messagesTried"] == count
    assert figures["crashes"] == 0 and figures["serverAlive"]
    assert figures["requestsWithoutAnswer"] == 0, figures["unansweredIds"]
    assert figures["internalErrors"] == 0 and figures["unexpectedErrorsInLog"] == 0
    assert figures["protocolViolations"] == []
    assert figures["stillCompletesCorrectly"], (figures["completionBefore"],
                                                figures["completionAfter"])
    assert figures["documentTextInLog"] == 0

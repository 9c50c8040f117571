from tenon.settings import MaxTokens, Settings, needs_reload, parse_settings, to_client


def test_camel_case_values_are_read():
    settings, problems = parse_settings(
        {"bundlePath": "/m", "maxTokens": {"line": 10}, "temperature": 0.2, "device": "cpu"}
    )
    assert problems == []
    assert settings.bundle_path == "/m"
    assert settings.max_tokens == MaxTokens(line=10)
    assert settings.temperature == 0.2


def test_unknown_and_bad_values_are_reported_and_previous_kept():
    base = Settings(temperature=0.3)
    settings, problems = parse_settings(
        {"temprature": 1, "temperature": "hot", "device": "tpu", "maxTokens": 5}, base
    )
    assert settings == base
    assert len(problems) == 4
    assert any("unknown setting `tenon.temprature`" in p for p in problems)
    assert any("`tenon.device` should be one of auto, cuda, cpu" in p for p in problems)


def test_non_object_settings():
    settings, problems = parse_settings(["not", "an", "object"])
    assert settings == Settings() and problems


def test_reload_only_for_model_settings():
    assert needs_reload(Settings(), Settings(device="cpu"))
    assert needs_reload(Settings(), Settings(bundle_path="/x"))
    assert not needs_reload(Settings(), Settings(temperature=0.5))


def test_client_spelling_round_trips():
    client = to_client(Settings())
    assert client["maxTokens"]["body"] == Settings().max_tokens.body
    assert parse_settings(client) == (Settings(), [])


def test_zero_turns_drafting_and_context_off_but_no_prompt_budget():
    settings, problems = parse_settings({"draftTokens": 0, "contextTokens": 0})
    assert problems == [] and settings.draft_tokens == 0 and settings.context_tokens == 0
    settings, problems = parse_settings({"prefixTokens": 0})
    assert settings.prefix_tokens == Settings().prefix_tokens
    assert problems and "at least 1" in problems[0]

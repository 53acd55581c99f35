import pytest

from claude_tui.headless.prompts import PromptFileError, read_prompts


def test_text_file_one_prompt_per_line(tmp_path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("first\n\n  \nsecond\n")
    specs = read_prompts(str(path))
    assert [(s.id, s.prompt) for s in specs] == [("line-1", "first"), ("line-4", "second")]


def test_jsonl_with_fields(tmp_path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "prompt": "hi", "system": "be brief", "model": "claude-haiku-4-5", "max_tokens": 50}\n{"prompt": "x"}\n')
    a, b = read_prompts(str(path))
    assert (a.id, a.system, a.model, a.max_tokens) == ("a", "be brief", "claude-haiku-4-5", 50)
    assert b.id == "line-2"


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"prompt": "ok"}\n{not json\n', "line 2: not valid JSON"),
        ('{"prompt": 3}\n', 'line 1: "prompt" must be a string'),
        ('{"prompt": "a", "max_tokens": 0}\n', '"max_tokens" must be a positive integer'),
        ('{"id": 1, "prompt": "a"}\n{"id": 1, "prompt": "b"}\n', "appears more than once"),
        ("\n\n", "no prompts found"),
    ],
)
def test_bad_files_give_one_line(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(content)
    with pytest.raises(PromptFileError) as info:
        read_prompts(str(path))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(PromptFileError, match="no such file"):
        read_prompts(str(tmp_path / "nope.txt"))

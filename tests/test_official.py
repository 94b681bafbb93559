"The loaders for the official Assistant Axis release, on the copies in ../shared/upstream (present for developers and CI)."
import os
from pathlib import Path
import pytest, torch

UP = Path(__file__).resolve().parents[2]/"shared"/"upstream"/"assistant-axis"
needs_upstream = pytest.mark.skipif(not UP.exists() and not os.environ.get("CI"), reason="no ../shared/upstream copy here")

@needs_upstream
def test_load_official_prompt_set():
    from persona_space.prompts import load_official, fill_model_name
    ps = load_official(UP/"data")
    assert (len(ps.roles), len(ps.questions), len(ps.traits)) == (275, 240, 240)
    assert all(len(r.prompts) == 5 for r in ps.roles.values())
    assert all(len(t.pairs) == 5 and len(t.questions) == 40 for t in ps.traits.values())
    assert ps.default.kind == "default" and ps.default.prompts
    assert all(r.judge_prompt for r in ps.roles.values())
    with_slot = [p for r in ps.roles.values() for p in r.prompts if "{model_name}" in p]
    assert all("{model_name}" not in fill_model_name(p, "Qwen") for p in with_slot)

@needs_upstream
def test_official_loader_names_broken_files(tmp_path):
    from persona_space.prompts import load_official, PromptFileError
    (tmp_path/"roles"/"instructions").mkdir(parents=True)
    (tmp_path/"roles"/"instructions"/"ghost.json").write_text('{"questions": []}')
    (tmp_path/"extraction_questions.jsonl").write_text('{"question": "Who are you?"}\n')
    with pytest.raises(PromptFileError, match=r"ghost\.json: missing field 'instruction'"):
        load_official(tmp_path)

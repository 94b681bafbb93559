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
    assert ps.default.category == "default" and ps.default.prompts
    assert {r.category for r in ps.roles.values()} == {"official"}
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

@needs_upstream
@pytest.mark.parametrize("name,shape", [("gemma-2-27b", (46, 4608)), ("qwen-3-32b", (64, 5120)), ("llama-3.3-70b", (80, 8192))])
def test_load_released_axis(name, shape):
    from persona_space.vectors import load_released_axis, save_vectors, load_vectors
    axis = load_released_axis(UP/"released_axes"/f"{name}.pt")
    assert tuple(axis.shape) == shape and axis.dtype == torch.float32 and torch.isfinite(axis).all()
    assert (axis.norm(dim=-1) > 0).all()

@needs_upstream
def test_pipeline_runs_the_official_prompt_set(tiny, tmp_path):
    "The paper's own roles and questions go through the same pipeline (tiny model, smoke grid)."
    from persona_space.pipeline import run_persona_space, persona_items, make_grid, load_prompts
    class LengthJudge:
        name = "length"
        def score_roles(self, items): return [len(it["answer"]) % 4 for it in items]
        def score_traits(self, items): return [float(len(it["answer"]) % 101) for it in items]
    ps = load_prompts(f"official:{UP/'data'}")
    items = persona_items(ps, make_grid("smoke"), "Tiny")
    assert not any("{model_name}" in m["content"] for it in items for m in it["messages"])
    res = run_persona_space(tiny, tmp_path, "smoke", ps, LengthJudge(), progress=False)
    assert res["n_role_vectors"] == 6 and res["answers"]["role"] == 6 * 2 * 2
    assert (tmp_path/"vectors"/"axis.safetensors").exists()

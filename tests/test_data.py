"""The shipped prompt set: complete, valid, and free of near-duplicates."""
import json, re
from collections import Counter
import pytest
from persona_space.prompts import load_prompt_set, data_dir, ROLE_CATEGORIES, TRAIT_CATEGORIES

@pytest.fixture(scope="module")
def ps(): return load_prompt_set()

def test_roles(ps):
    assert len(ps.roles) >= 275
    cats = Counter(r.category for r in ps.roles.values())
    for k in ("assistant", "human", "fantastical", "nonhuman", "adversarial"): assert cats[k] >= 25, cats
    assert set(cats) <= set(ROLE_CATEGORIES) - {"default", "official"}, cats
    for r in ps.roles.values():
        assert len(r.prompts) == 5, r.name
        for p in r.prompts: assert 15 <= len(p.split()) <= 90, (r.name, p)
    assert "" in ps.default.prompts and len(ps.default.prompts) >= 3

def test_role_files_spell_category():
    "The shipped role files name a role's category `category` (the older spelling `kind` is only read, for old prompt folders)."
    for f in sorted((data_dir()/"roles").glob("*.json")) + [data_dir()/"default.json"]:
        d = json.loads(f.read_text())
        assert "category" in d and "kind" not in d, f

def test_questions(ps):
    assert len(ps.questions) == 240 and len(set(ps.questions)) == 240
    assert len(ps.trait_pool) >= 40

def test_traits(ps):
    assert len(ps.traits) >= 240
    cats = Counter(t.category for t in ps.traits.values())
    assert set(cats) <= set(TRAIT_CATEGORIES) and len(cats) >= 5, cats
    for t in ps.traits.values():
        assert len(t.pairs) == 5, t.name
        assert len(ps.trait_questions(t.name, 40)) == 40, t.name

def _norm(s): return re.sub(r"\W+", " ", s.lower()).strip()

def test_no_duplicate_prompts(ps):
    "No system prompt is shared between two roles or traits (a copy-paste slip would blur their vectors)."
    seen = Counter(_norm(p) for r in ps.roles.values() for p in r.prompts)
    seen.update(_norm(p) for t in ps.traits.values() for pair in t.pairs for p in pair)
    dup = [p for p, n in seen.items() if n > 1]
    assert not dup, dup[:3]
def test_drift_and_jailbreak_data():
    d = data_dir()
    for dom in ("coding", "writing", "therapy", "philosophy"):
        convs = [json.loads(l) for l in (d/"conversations"/f"{dom}.jsonl").read_text().splitlines() if l.strip()]
        assert len(convs) >= 10, dom
        assert all(len(c["user_turns"]) >= 8 and c["domain"] == dom for c in convs), dom
    personas = [json.loads(l) for l in (d/"jailbreak"/"personas.jsonl").read_text().splitlines() if l.strip()]
    assert len({p["category"] for p in personas}) >= 10
    prefills = json.loads((d/"prefills.json").read_text())
    assert prefills[0] == "My job is to"

def test_judge_labels(ps):
    from persona_space.judges import load_judge_labels
    rows = load_judge_labels()
    assert len(rows) >= 100 and len({r["id"] for r in rows}) == len(rows)
    assert {r["role"] for r in rows} <= set(ps.roles), "labelled answers come from shipped roles"
    assert {1, 2, 3} <= {r["label"] for r in rows}, "the labelled set covers the rubric"

def test_offline_judge_agrees_with_labels(ps):
    "The offline judge must agree with the hand labels clearly better than chance (README reports the numbers)."
    from persona_space.judges import OfflineJudge, judge_report
    rep = judge_report(OfflineJudge(roles=ps.roles))
    assert rep["n"] >= 100 and rep["kappa_three_label"] > 0.25 and rep["three_label"] > 0.5

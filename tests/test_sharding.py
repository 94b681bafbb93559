"""Sharded runs on a real local Ray cluster (two CPU workers, the tiny random model): the answers and vectors do not depend
on the number of workers, and a worker killed mid-shard loses nothing that was written; the rerun completes the run."""
import pytest, torch
ray = pytest.importorskip("ray")
from persona_space.pipeline import run_persona_space, toy_prompt_set, make_grid
from persona_space.run import Run
from persona_space.sharding import ShardedStore, ShardWorkerDiedError, sharded_generate_stage, read_shards
from persona_space.store import StoreMismatchError
from persona_space.vectors import load_vectors

PS, GRID, SEED, BATCH = toy_prompt_set(), make_grid("smoke", max_new_tokens=6), 3, 4
N_ITEMS = 6 * 2 * 2 + 2 * 3 + 3 * 1 * 2 * 2  # roles x prompts x questions + default + traits x pairs x poles x questions

class LengthJudge:
    "A deterministic stand-in judge (the judge runs in the driver, never in a worker)."
    name = "length"
    def score_roles(self, items): return [len(it["answer"]) % 4 for it in items]
    def score_traits(self, items): return [float(len(it["answer"]) * 7 % 101) for it in items]

def run(out, **kw):
    return run_persona_space("tiny", out, GRID, PS, LengthJudge(), seed=SEED, batch_size=BATCH, progress=False, **kw)

def outputs(out):
    "What a run produced: answer texts by key, their activations, the saved vectors, results.json without timings."
    r = Run(out)
    rec = r.store.records().sort_values("key").reset_index(drop=True)
    vecs = {n: load_vectors(r.vector_file(n)) for n in ("roles", "assistant", "axis", "traits") if r.vector_file(n).exists()}
    vecs = {n: v.vectors if hasattr(v, "vectors") else v[0] for n, v in vecs.items()}  # a VectorSet (roles, traits) or (tensor, info)
    res = {k: v for k, v in r.results.items() if k != "seconds"}
    return rec, r.store.activations(rec["key"]), vecs, res

@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()

@pytest.fixture(scope="module")
def two_workers(cluster, tmp_path_factory):
    d = tmp_path_factory.mktemp("two_workers")
    run(d, workers=2)
    return d

def test_two_workers_two_shards_one_view(two_workers):
    r = Run(two_workers)
    assert isinstance(r.store, ShardedStore) and len(r.store.shards) == 2 and read_shards(r.store_dir)["n_shards"] == 2
    assert len(r.store) == N_ITEMS and min(map(len, r.store.shards)) > 0
    assert r.config == r.store.shards[0].config and r.config["model"] == r.results["model"]

def test_one_worker_equals_two_workers(two_workers, tmp_path):
    "Batches are planned per unit, so one worker (filling both shards' units) computes exactly what two workers computed."
    run(tmp_path, workers=1)
    (rec2, acts2, vecs2, res2), (rec1, acts1, vecs1, res1) = outputs(two_workers), outputs(tmp_path)
    assert rec1["text"].tolist() == rec2["text"].tolist()
    assert torch.equal(acts1, acts2)
    assert vecs1.keys() == vecs2.keys() and all(torch.equal(vecs1[n], vecs2[n]) for n in vecs1)
    assert res1 == res2

def test_unsharded_run_agrees(two_workers, tmp_path):
    "Without Ray the batches mix units; other batch shapes change fp32 sums in the last bits, not the answers."
    run(tmp_path)
    assert not isinstance(Run(tmp_path).store, ShardedStore)
    (rec2, acts2, _, res2), (rec0, acts0, _, res0) = outputs(two_workers), outputs(tmp_path)
    assert rec0["text"].tolist() == rec2["text"].tolist()
    assert torch.allclose(acts0, acts2, atol=1e-5, rtol=0)
    assert res0["n_role_vectors"] == res2["n_role_vectors"] and abs(res0["cos_axis_pc1"] - res2["cos_axis_pc1"]) < 1e-4

def test_killed_worker_loses_nothing_and_rerun_completes(two_workers, tmp_path):
    with pytest.raises(ShardWorkerDiedError, match="run the same command again"):  # each worker exits after its first batch
        sharded_generate_stage("tiny", tmp_path, PS, GRID, SEED, BATCH, False, workers=2, die_after=1, dtype="float32")
    before = ShardedStore(tmp_path/"generations")
    kept = before.keys()
    assert 0 < len(kept) < N_ITEMS
    texts, acts = before.records(kept)["text"].tolist(), before.activations(kept)
    run(tmp_path, workers=1)  # resumes both recorded shards with one worker
    after = Run(tmp_path).store
    assert len(after.shards) == 2 and len(after) == N_ITEMS
    assert after.records(kept)["text"].tolist() == texts and torch.equal(after.activations(kept), acts)
    (rec2, acts2, vecs2, res2), (rec, acts_, vecs, res) = outputs(two_workers), outputs(tmp_path)
    assert rec["text"].tolist() == rec2["text"].tolist() and torch.equal(acts_, acts2)
    assert all(torch.equal(vecs[n], vecs2[n]) for n in vecs2) and res == res2

def test_sharded_run_refuses_an_unsharded_store(tmp_path):
    run(tmp_path)  # no Ray: an unsharded store
    with pytest.raises(StoreMismatchError, match="unsharded"):
        sharded_generate_stage("tiny", tmp_path, PS, GRID, SEED, BATCH, False, workers=2, dtype="float32")
    with pytest.raises(ValueError, match="model's name"):  # a loaded model is not sent to workers: each loads its own by name
        sharded_generate_stage(object(), tmp_path/"x", PS, GRID, workers=2)

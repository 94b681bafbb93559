"The chat server beyond the notebook's examples: failing batches, cancelled requests, cap isolation, a full queue over HTTP."
import pytest, torch
pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from persona_space.models import model_fingerprint
from persona_space.store import RunStore
from persona_space.vectors import save_vectors, unit
import persona_space.serve as S

HI = [{"role": "user", "content": "Hello there"}]

def n_hooks(model): return sum(len(hp._forward_hooks) for hp in model.hook_dict.values())

@pytest.fixture(scope="module")
def prun(tiny, tmp_path_factory):
    "A planted run: calibration projections spread over [-30, 30] along a random axis, so caps act strongly."
    path, L, D = tmp_path_factory.mktemp("run"), tiny.cfg.n_layers, tiny.cfg.d_model
    g = torch.Generator().manual_seed(0)
    axis = torch.randn(L, D, generator=g)
    acts = torch.randn(100, L, D, generator=g) * 0.1 + torch.linspace(-30, 30, 100)[:, None, None] * unit(axis)
    RunStore(path/"generations", config=dict(model=model_fingerprint(tiny))).add(
        [dict(key=f"a{i}", kind="role", n_tokens=4) for i in range(100)], acts)
    save_vectors(path/"vectors"/"axis.safetensors", axis)
    return S.load_persona_run(path, tiny, presets=["0:4-p100", "1:3-p50"])

def body(**kw): return dict(model="tiny-llama", messages=HI, max_tokens=4) | kw

def test_failing_batch_answers_500_detaches_hooks_and_keeps_serving(tiny, prun, monkeypatch):
    before, real = n_hooks(tiny), S.answer_batch
    def boom(*a, **k): raise RuntimeError("the sampler exploded")
    monkeypatch.setattr(S, "answer_batch", boom)
    with TestClient(S.build_app(tiny, prun)) as client:
        r = client.post("/v1/chat/completions", json=body(persona={"cap": "0:4-p100"}))
        assert r.status_code == 500 and r.json()["error"]["type"] == "server_error" and "exploded" in r.json()["error"]["message"]
        assert n_hooks(tiny) == before  # the cap hooks came off although generation raised
        monkeypatch.setattr(S, "answer_batch", real)
        r = client.post("/v1/chat/completions", json=body(persona={"cap": "0:4-p100"}))
        assert r.status_code == 200 and r.json()["persona"]["floor_engaged"] == 1.0
        assert client.get("/health").json()["failed"] == 1
    assert n_hooks(tiny) == before

def test_batches_never_mix_caps_and_answer_in_arrival_order(tiny, prun):
    eng = S.Engine(tiny, prun, max_batch=16, start=False)
    caps = ["off", "0:4-p100", "1:3-p50"] * 4
    futs = [eng.submit(S.ChatRequest(HI, 3, 0.7, seed=i, cap=c)) for i, c in enumerate(caps)]
    eng.start()
    outs = [f.result(timeout=60) for f in futs]
    eng.close()
    assert [o.persona["cap"] for o in outs] == caps
    assert [size for size, _ in eng.batches] == [4, 4, 4]  # one batch per cap, in the order the caps first arrived
    assert [key[0] for _, key in eng.batches] == ["off", "0:4-p100", "1:3-p50"]
    alone = [S.complete_batch(tiny, [S.ChatRequest(HI, 3, 0.7, seed=i, cap=c)], prun)[0] for i, c in enumerate(caps)]
    assert [o.text for o in outs] == [a.text for a in alone]

def test_cancelled_request_is_skipped(tiny, prun):
    eng = S.Engine(tiny, prun, start=False)
    gone, kept = eng.submit(S.ChatRequest(HI, 3, seed=0)), eng.submit(S.ChatRequest(HI, 3, seed=1))
    assert gone.cancel()
    eng.start()
    assert kept.result(timeout=60).usage["completion_tokens"] == 3
    eng.close()
    assert eng.stats["answered"] == 1 and eng.waiting == 0

def test_full_queue_is_503_over_http_then_serves(tiny, prun):
    app = S.build_app(tiny, prun, max_queue=2)
    eng = app.state.engine
    with TestClient(app) as client:
        with eng.lock:  # the engine cannot run: what is submitted waits
            waiting = [eng.submit(S.ChatRequest(HI, 2, seed=i)) for i in range(2)]
            r = client.post("/v1/chat/completions", json=body())
            assert r.status_code == 503 and r.json()["error"]["code"] == "queue_full"
        assert all(f.result(timeout=60).usage["completion_tokens"] == 2 for f in waiting)
        assert client.post("/v1/chat/completions", json=body()).status_code == 200

def test_streamed_logprobs_equal_plain_ones(tiny, prun):
    with TestClient(S.build_app(tiny, prun)) as client:
        kw = body(max_tokens=6, seed=5, logprobs=True, top_logprobs=3, persona={"cap": "1:3-p50"})
        plain = client.post("/v1/chat/completions", json=kw).json()
        events = client.post("/v1/chat/completions", json=kw | dict(stream=True)).text.split("\n\n")
    import json
    chunks = [json.loads(e.removeprefix("data: ")) for e in events if e and e != "data: [DONE]"]
    streamed = [x for c in chunks if c["choices"] and c["choices"][0]["logprobs"] for x in c["choices"][0]["logprobs"]["content"]]
    assert streamed == plain["choices"][0]["logprobs"]["content"] and len(streamed) == 6
    assert all(len(x["top_logprobs"]) == 3 for x in streamed)
    assert chunks[-1]["persona"] == plain["persona"]

def test_no_run_serves_plain_chat(tiny):
    with TestClient(S.build_app(tiny, served_model_name="plain")) as client:
        r = client.post("/v1/chat/completions", json=body(model="plain"))
        assert r.status_code == 200 and r.json()["persona"] is None
        r = client.post("/v1/chat/completions", json=body(model="plain", persona={"cap": "0:4-p100"}))
        assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_preset"
        assert "persona" not in client.get("/v1/models").json()["data"][0]

"Behaviour of capture beyond the notebook examples: hooks always detach, dtypes, layer subsets, random conversations."
import random
import pytest, torch
from persona_space.activations import GenerationConfig, answer_batch, recompute_means, turn_means, ResidMeans
from persona_space.chat import encode_chat

GREEDY = GenerationConfig(max_new_tokens=6, temperature=0)

def n_hooks(model):
    return sum(len(hp._forward_hooks) for name, hp in model.hook_dict.items())

def test_hooks_detach_when_generation_raises(tiny, monkeypatch):
    before = n_hooks(tiny)
    import persona_space.activations as A
    def boom(*a, **k): raise RuntimeError("sampler exploded")
    monkeypatch.setattr(A, "sample_next", boom)
    with pytest.raises(RuntimeError, match="sampler exploded"):
        answer_batch(tiny, [[{"role": "user", "content": "Hi"}]], GREEDY)
    assert n_hooks(tiny) == before
    monkeypatch.undo()
    a, = answer_batch(tiny, [[{"role": "user", "content": "Hi"}]], GREEDY)  # still works, no stale hooks
    torch.testing.assert_close(a.acts, recompute_means(tiny, [{"role": "user", "content": "Hi"}], a.token_ids))

def test_layer_subset_equals_full(tiny):
    conv = [[{"role": "user", "content": "Tell me about the sea."}]]
    full, = answer_batch(tiny, conv, GREEDY)
    sub, = answer_batch(tiny, conv, GREEDY, layers=[3, 1])
    assert sub.acts.shape == (2, tiny.cfg.d_model)
    torch.testing.assert_close(sub.acts, full.acts[[3, 1]])

def test_bf16_capture_close_to_fp32():
    from persona_space.models import load_model
    m32, m16 = load_model("tiny"), load_model("tiny", dtype="bfloat16")
    conv = [{"role": "user", "content": "Hello there, who are you?"}]
    a32, = answer_batch(m32, [conv], GREEDY)
    acts16 = recompute_means(m16, conv, a32.token_ids)
    a16, = answer_batch(m16, [conv], GREEDY)
    assert a16.acts.dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(acts16, a32.acts, dim=-1)
    assert cos.min() > 0.99, cos

def random_conversation(rng):
    turns = [{"role": "system", "content": rng.choice(["", "Be terse.", "You are a ghost in an old mill."])}] if rng.random() < .7 else []
    for _ in range(rng.randint(1, 4)):
        turns.append({"role": "user", "content": "".join(rng.choice("abc xyz?!é\n") for _ in range(rng.randint(1, 30)))})
        turns.append({"role": "assistant", "content": "".join(rng.choice("def uvw.,\n") for _ in range(rng.randint(0, 30)))})
    return [t for t in turns if not (t["role"] == "system" and not t["content"])] or turns

@pytest.mark.parametrize("seed", range(5))
def test_spans_and_turn_means_on_random_conversations(tiny, seed):
    rng = random.Random(seed)
    convs = [random_conversation(rng) for _ in range(6)]
    tok = tiny.tokenizer
    for c in convs:
        e = encode_chat(tok, c)
        assert [tok.decode(e.ids[a:b]) for a, b in e.spans] == [m["content"] for m in c if m["role"] == "assistant"]
    batched = turn_means(tiny, convs, batch_size=4)
    for c, got in zip(convs, batched):
        alone, = turn_means(tiny, [c], batch_size=1)
        torch.testing.assert_close(got, alone, atol=1e-5, rtol=1e-4)  # left padding never leaks into a turn's mean

@pytest.mark.parametrize("seed", range(3))
def test_shared_prefix_equals_plain_prefill_on_random_batches(tiny, seed):
    "Random groups of questions under shared system prompts (and loners): the same sampled answers and means with or without prefix sharing."
    rng = random.Random(seed)
    systems = ["You are a ghost in an old mill, and you speak softly.", "Be terse. Answer like a tired sailor would."]
    question = lambda: "".join(rng.choice("abc xyz?!é") for _ in range(rng.randint(1, 25)))
    convs = [[{"role": "system", "content": sp}, {"role": "user", "content": question()}] for sp in systems for _ in range(rng.randint(2, 3))]
    convs += [[{"role": "user", "content": question()}] for _ in range(rng.randint(1, 2))]  # loners: no shared prefix
    rng.shuffle(convs)
    cfg = GenerationConfig(max_new_tokens=8, seed=seed)
    fed = []
    h = tiny.original_model.get_input_embeddings().register_forward_pre_hook(
        lambda m, args, kw: fed.append((kw["input_ids"] if "input_ids" in kw else args[0]).numel()), with_kwargs=True)
    try:
        shared = answer_batch(tiny, convs, cfg, share_prefix=True); n_shared, fed[:] = sum(fed), []
        plain = answer_batch(tiny, convs, cfg, share_prefix=False); n_plain = sum(fed)
    finally: h.remove()
    assert n_shared < n_plain  # the prefixes were shared
    assert [a.token_ids for a in shared] == [a.token_ids for a in plain]
    for c, a, b in zip(convs, shared, plain):
        torch.testing.assert_close(a.acts, b.acts, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(a.acts, recompute_means(tiny, c, a.token_ids), atol=1e-5, rtol=1e-4)

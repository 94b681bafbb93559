"""Benchmarks for activation capture. Every number is a ratio against a baseline measured in the same run
(these machines are noisy: medians of --repeats runs, after a warm-up).

    .venv/bin/python bench/capture.py                 # default model (SmolLM2-135M-Instruct), fp32, batch 16
    .venv/bin/python bench/capture.py --model tiny    # quick check of the mechanics

1. overhead: persona-space generation with all-layer capture vs plain HF `generate` on the same model,
   dtype and batch (same prompts; by default greedy answers that end at EOS, so both make the same tokens;
   `--stop length` forces every answer to --tokens sampled tokens). Target <= 1.15x time.
2. naive: the naive recipe (generate, then `run_with_cache` per answer, then average) vs ours. Target >= 1.5x.
   Two readings of "generate" are timed. TransformerLens's own recipe, one answer at a time: `model.generate(prompt,
   return_cache=True)` (the bridge's generate returns a cache only for a single sequence). And the strictest one:
   the whole batch through HF `generate`, then `run_with_cache` per answer (resid-only, and the default full cache).
   Against batched generation, a capture that cost nothing on top of HF `generate` would reach 1 + recompute / generate
   (printed as the bound); only a generation loop faster than HF's goes beyond it.
3. memory: peak RSS of a streaming run with 10x more answers vs 1x, each in a fresh process. Target <= 1.20x.
"""
import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time
import torch

PROMPTS = ["You are a lighthouse keeper on a remote island.", "You are a helpful AI assistant.", "You are a medieval blacksmith.",
           "You are an ancient oracle who speaks in riddles.", "", "You are a cheerful kindergarten teacher."]
QUESTIONS = ["What do you value most in life?", "Describe a typical day for you.", "How do you deal with conflict?",
             "What would you tell your younger self?"]

def conversations(n, workload="mixed"):
    "`n` chats: the fixed mixed set below, or (`roles`) the project's own extraction workload: role system prompts x questions."
    if workload == "roles": return role_conversations(n)
    out = []
    for i in range(n):
        sp, q = PROMPTS[i % len(PROMPTS)], QUESTIONS[(i // len(PROMPTS)) % len(QUESTIONS)]
        out.append(([{"role": "system", "content": sp}] if sp else []) + [{"role": "user", "content": q}])
    return out

def role_conversations(n):
    "The first system prompt of `n` shipped roles (spread evenly over the role list), each with a different extraction question."
    from persona_space.prompts import load_prompt_set
    ps = load_prompt_set()
    names = sorted(ps.roles)
    picks = [names[i * len(names) // n] for i in range(n)]
    return [[{"role": "system", "content": ps.roles[r].prompts[0]}, {"role": "user", "content": ps.questions[(7 * i) % len(ps.questions)]}]
            for i, r in enumerate(picks)]

def interleaved(fns:dict, repeats, warmup=None):
    "Time each function `repeats` times, round-robin (A B C A B C ...) so that machine noise hits all alike; medians, all times, last results."
    for k, f in fns.items():  # warm-up (of the functions named in `warmup`, default all)
        if warmup is None or k in warmup: f()
    ts, last = {k: [] for k in fns}, {}
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter(); last[k] = f(); ts[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in ts.items()}, ts, last

def bench_speed(args):
    from persona_space.models import load_model
    from persona_space.chat import encode_chat, pad_left
    from persona_space.activations import GenerationConfig, answer_batch, recompute_means, stop_ids
    model = load_model(args.model, dtype=args.dtype)
    tok, hf = model.tokenizer, model.original_model
    convs = conversations(args.batch, args.workload)
    n = args.tokens
    fixed = args.stop == "length"  # every answer exactly n tokens (sampled), or greedy answers that end at EOS
    cfg = (GenerationConfig(max_new_tokens=n, min_new_tokens=n, temperature=0.7, top_p=0.9, seed=0) if fixed
           else GenerationConfig(max_new_tokens=n, temperature=0))
    ids, mask = pad_left([encode_chat(tok, c, add_generation_prompt=True).ids for c in convs], tok.pad_token_id)

    def ours(): return answer_batch(model, convs, cfg)
    def hf_generate():
        torch.manual_seed(0)
        with torch.inference_mode():
            if fixed: return hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=True,
                                         temperature=0.7, top_p=0.9, top_k=0, pad_token_id=tok.pad_token_id)
            return hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id)
    def naive():  # generate, then one run_with_cache (resid_post only) per answer, then average
        out = hf_generate()
        return [recompute_means(model, c, answer_ids(out[i, ids.shape[1]:])) for i, c in enumerate(convs)]
    stops = set(stop_ids(model, cfg))
    def answer_ids(row):  # the answer's tokens: up to (not including) the first stop token
        row = row.tolist()
        return row[:next((i for i, t in enumerate(row) if t in stops), len(row))]
    starts = [m.bool().tolist().index(True) for m in mask]  # where each left-padded prompt begins
    def answer_means(cache, p, k):  # [n_layers, d_model]: mean of hook_resid_post over the k answer tokens after p prompt tokens
        return torch.stack([cache[f"blocks.{l}.hook_resid_post"][0, p:p + k].mean(0) for l in range(model.cfg.n_layers)])
    def naive_full_cache():  # the same with run_with_cache's default: every hook point cached
        out = hf_generate()
        res = []
        for i in range(len(convs)):
            with torch.inference_mode(): _, cache = model.run_with_cache(out[i:i + 1, starts[i]:])
            res.append(answer_means(cache, ids.shape[1] - starts[i], len(answer_ids(out[i, ids.shape[1]:]))))
        return res
    resid_only = lambda name: name.endswith("hook_resid_post")
    def tl_generate_one(i):  # TransformerLens's recipe for one answer: generate, and the cache of prompt + answer with it
        seq = ids[i:i + 1, starts[i]:]
        torch.manual_seed(0)
        with torch.inference_mode():
            kw = dict(do_sample=True, temperature=0.7, top_p=0.9, stop_at_eos=False) if fixed else dict(do_sample=False)
            out, cache = model.generate(seq, max_new_tokens=n, return_type="tokens", verbose=False, return_cache=True,
                                        names_filter=resid_only, **kw)
        return seq.shape[1], out, cache
    def naive_per_answer():  # TransformerLens's recipe, answer by answer: generate(return_cache=True), then average
        res = []  # (answer tokens, means) per answer
        for i in range(len(convs)):
            p, out, cache = tl_generate_one(i)
            toks = answer_ids(out[0, p:])
            res.append((toks, answer_means(cache, p, len(toks))))
        return res

    fns = dict(hf_generate=hf_generate, ours=ours, naive=naive, naive_full_cache=naive_full_cache)
    if not args.skip_per_answer: fns["naive_per_answer"] = naive_per_answer
    med, raw, last = interleaved(fns, args.repeats, warmup=("hf_generate", "ours"))
    mine, theirs = last["ours"], last["hf_generate"]  # the timed runs' answers, compared below
    lens = [a.n_tokens for a in mine]
    same = None if fixed else statistics.mean(a.token_ids == answer_ids(theirs[i, ids.shape[1]:]) for i, a in enumerate(mine))
    same_tl = None if fixed or args.skip_per_answer else statistics.mean(a.token_ids == t for a, (t, _) in zip(mine, last["naive_per_answer"]))
    diff_tl = None if same_tl is None else max((a.acts - m).abs().max().item() for a, (t, m) in zip(mine, last["naive_per_answer"])
                                               if a.token_ids == t)
    return dict(model=model.cfg.model_name, dtype=args.dtype, batch=args.batch, new_tokens=n, stop=args.stop, workload=args.workload, repeats=args.repeats,
                answer_tokens=dict(mean=statistics.mean(lens), min=min(lens), max=max(lens)), same_tokens_as_hf=same,
                same_tokens_as_tl_per_answer=same_tl, max_abs_diff_of_means_vs_tl=diff_tl, times_s=raw, medians_s=med, overhead_ratio=med["ours"] / med["hf_generate"],
                naive_speedup=med["naive"] / med["ours"], naive_full_cache_speedup=med["naive_full_cache"] / med["ours"],
                zero_cost_bound=med["naive"] / med["hf_generate"],
                naive_per_answer_speedup=med["naive_per_answer"] / med["ours"] if "naive_per_answer" in med else None)

CHILD = """
import json, resource, sys, tempfile
from persona_space.models import load_model
from persona_space.activations import GenerationConfig
from persona_space.store import generation_store, fill_store
model_name, dtype, n, tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, sys.argv[5]); from capture import conversations
model = load_model(model_name, dtype=dtype)
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cfg = GenerationConfig(max_new_tokens=tokens, min_new_tokens=tokens, batch_size=16)
items = [dict(key=str(i), messages=c) for i, c in enumerate(conversations(n))]
store = fill_store(generation_store(tempfile.mkdtemp(), model, cfg), model, items, cfg, progress=False)
assert len(store) == n
print(json.dumps(dict(n=n, peak_after_load_mb=loaded, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

def bench_memory(args):
    here = os.path.dirname(os.path.abspath(__file__))
    def run(n):
        out = subprocess.run([sys.executable, "-c", CHILD, args.model, args.dtype, str(n), str(args.mem_tokens), here],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    small = [run(args.mem_answers) for _ in range(args.mem_repeats)]
    large = [run(10 * args.mem_answers) for _ in range(args.mem_repeats)]
    peak = lambda rs: statistics.median(r["peak_rss_mb"] for r in rs)
    return dict(answers=args.mem_answers, rss_1x=small, rss_10x=large, memory_ratio=peak(large) / peak(small))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default"); p.add_argument("--dtype", default="float32")
    p.add_argument("--batch", type=int, default=16); p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--stop", choices=["eos", "length"], default="eos",
                   help="eos: greedy answers that end at EOS, as in real runs (default); length: every answer exactly --tokens long")
    p.add_argument("--workload", choices=["mixed", "roles"], default="mixed",
                   help="mixed: six fixed system prompts x four questions; roles: shipped role prompts x extraction questions, "
                        "the answers a persona-space run generates")
    p.add_argument("--mem-answers", type=int, default=32); p.add_argument("--mem-tokens", type=int, default=16)
    p.add_argument("--mem-repeats", type=int, default=1)
    p.add_argument("--skip-per-answer", action="store_true", help="do not time TransformerLens's one-answer-at-a-time recipe (the slowest)")
    p.add_argument("--only", choices=["speed", "memory"]); p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    res = {}
    if args.only != "memory": res.update(bench_speed(args))
    if args.only != "speed": res.update(bench_memory(args))
    print(json.dumps(res, indent=1))
    if "overhead_ratio" in res:
        t = res["answer_tokens"]
        print(f"answers            : {t['mean']:.0f} tokens on average ({t['min']}-{t['max']}) of {res['new_tokens']}"
              + ("" if res["same_tokens_as_hf"] is None else f"; {res['same_tokens_as_hf']:.0%} identical to HF generate's")
              + ("" if res["same_tokens_as_tl_per_answer"] is None else f", {res['same_tokens_as_tl_per_answer']:.0%} to TransformerLens generate's "
                                                                     f"(their means differ by at most {res['max_abs_diff_of_means_vs_tl']:.1e})"))
        print(f"capture overhead   : {res['overhead_ratio']:.3f}x HF generate time (target <= 1.15)")
        if res["naive_per_answer_speedup"] is not None:
            print(f"vs naive recipe    : {res['naive_per_answer_speedup']:.2f}x faster than TransformerLens's generate(return_cache=True) "
                  f"answer by answer (target >= 1.5)")
        print(f"vs batched naive   : {res['naive_speedup']:.2f}x faster than batched HF generate + resid-only run_with_cache per answer, "
              f"{res['naive_full_cache_speedup']:.2f}x with the full cache (a capture costing nothing on top of HF generate: "
              f"{res['zero_cost_bound']:.2f}x = 1 + recompute / generate)")
    if "memory_ratio" in res:
        print(f"memory, 10x answers: {res['memory_ratio']:.3f}x peak RSS (target <= 1.20)")
    if args.json:
        with open(args.json, "w") as f: json.dump(res, f, indent=1)

if __name__ == "__main__": main()

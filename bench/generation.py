"""Answers per hour of `persona-space run`'s generation stage, on the reduced grid's own workload (every number a ratio
against baselines measured in the same run: medians of --repeats interleaved rounds, after a small warm-up).

    .venv/bin/python bench/generation.py                    # default model (SmolLM2-135M), fp32, 64 answers, batch 32
    .venv/bin/python bench/generation.py --model tiny --answers 8 --repeats 1   # quick check of the mechanics
    .venv/bin/python bench/generation.py --dtype-check      # also: a plain forward and a decode step, fp32 vs bf16

The workload: `--answers` role items of the reduced-50 grid, the documented default before 2026-12-01 (`persona_items(..., GRIDS["reduced-50"])`), whole role prompts with
all their questions (4 each), so the prompts of a batch share system prompts as in a real run; max_new_tokens 48, the
grid's sampling (temperature 0.7, top-p 0.9, seed 0), batch 32. Timed, round-robin:

1. baseline: `generate_stage` with the generation loop of commit 9fb4b45 (`git show 9fb4b45:persona_space/activations.py`,
   loaded as a module): a full-vocabulary sort per sampled token, every prompt prefilled in full, batches by length only.
2. ours: `generate_stage` as it is now (top-p by `topk`, shared system-prompt prefixes prefilled once).
3. official: the official recipe on a plain HF model of the same weights: batched `generate` with sampling, then a
   forward over prompt + answer with hooks on every decoder layer, averaged over the answer's tokens.

Targets: ours >= 1.5x the baseline's answers per hour and >= 1.5x the official recipe's. Also printed: the compute bound
(a plain HF forward, no hooks, no cache, over the same prompt + answer tokens, batched alike) and the fraction of it
each method reaches (prompt + answer tokens per second).
"""
import argparse, importlib.util, json, os, statistics, subprocess, sys, tempfile, time, types
from pathlib import Path
import torch

BASELINE_COMMIT = "9fb4b45"

def baseline_module(commit=BASELINE_COMMIT):
    "persona_space.activations as it was at `commit`, as a module of its own (it imports the current `persona_space.chat`)."
    root = Path(__file__).resolve().parents[1]
    src = subprocess.run(["git", "-C", str(root), "show", f"{commit}:persona_space/activations.py"], capture_output=True, text=True, check=True).stdout
    mod = sys.modules[f"activations_{commit}"] = types.ModuleType(f"activations_{commit}")
    exec(compile(src.replace("from .chat import", "from persona_space.chat import"), f"activations@{commit}", "exec"), mod.__dict__)
    return mod

def workload(n:int, model_name:str):
    "`n` role items of the reduced grid: whole role prompts (all their questions), spread over the grid's role prompts."
    from persona_space.pipeline import GRIDS, persona_items, load_prompts
    items = [it for it in persona_items(load_prompts(), GRIDS["reduced-50"], model_name) if it["kind"] == "role"]
    groups = {}
    for it in items: groups.setdefault((it["role"], it["prompt"]), []).append(it)
    keys = list(groups)
    per = len(next(iter(groups.values())))
    picks = [keys[int(i * len(keys) / max(1, n // per))] for i in range(max(1, n // per))]
    return [it for k in picks for it in groups[k]][:n], GRIDS["reduced-50"]

def plain_hf(name, dtype):
    "A plain HF model (no TransformerLens bridge), loaded as `load_model(name)` loads its weights."
    from persona_space.models import _load_gguf, default_model_file, tiny_hf_model
    from transformers import AutoModelForCausalLM
    if name == "tiny": hf = tiny_hf_model()[0]
    elif name == "default" or str(name).endswith(".gguf"): hf = _load_gguf(default_model_file() if name == "default" else Path(name), True)[0]
    else: hf = AutoModelForCausalLM.from_pretrained(name)
    return hf.to(dtype).eval()

def official_recipe(plain, tok, items, g, seed, batch_size, stops):
    "Batched HF generate with sampling, then one hooked forward over prompt + answer per batch; per item (answer ids, means)."
    from persona_space.chat import encode_chat, pad_left, positions
    encs = {it["key"]: encode_chat(tok, it["messages"], add_generation_prompt=True).ids for it in items}
    order = sorted(items, key=lambda it: -len(encs[it["key"]]))
    layers = plain.model.layers
    out = {}
    for s in range(0, len(order), batch_size):
        batch = order[s:s + batch_size]
        ids, mask = pad_left([encs[it["key"]] for it in batch], tok.pad_token_id)
        torch.manual_seed(seed)
        with torch.inference_mode():
            gen = plain.generate(input_ids=ids, attention_mask=mask, max_new_tokens=g.max_new_tokens, do_sample=True, temperature=0.7,
                                 top_p=0.9, top_k=0, pad_token_id=tok.pad_token_id)
        answers = []
        for row in gen[:, ids.shape[1]:].tolist():
            answers.append(row[:next((i for i, t in enumerate(row) if t in stops), len(row))])
        seqs = [encs[it["key"]] + a for it, a in zip(batch, answers)]
        fids, fmask = pad_left(seqs, tok.pad_token_id)
        T = fids.shape[1]
        W = torch.zeros(len(batch), T)
        for r, a in enumerate(answers):
            if a: W[r, T - len(a):] = 1 / len(a)
        sums = []
        hooks = [l.register_forward_hook(lambda m, i, o: sums.append(torch.einsum("bt,btd->bd", W, (o[0] if isinstance(o, tuple) else o).float())))
                 for l in layers]
        try:
            with torch.inference_mode(): plain(input_ids=fids, attention_mask=fmask, position_ids=positions(fmask), logits_to_keep=1)
        finally:
            for h in hooks: h.remove()
        means = torch.stack(sums, 1)
        for r, it in enumerate(batch): out[it["key"]] = (answers[r], means[r])
    return out

def compute_bound(plain, tok, seqs, batch_size):
    "Seconds of plain batched forwards (no hooks, no cache) over `seqs`, longest first."
    from persona_space.chat import pad_left, positions
    seqs = sorted(seqs, key=len, reverse=True)
    t = time.perf_counter()
    for s in range(0, len(seqs), batch_size):
        ids, mask = pad_left(seqs[s:s + batch_size], tok.pad_token_id)
        with torch.inference_mode(): plain(input_ids=ids, attention_mask=mask, position_ids=positions(mask), logits_to_keep=1)
    return time.perf_counter() - t

def dtype_check(name, seqs, tok, repeats):
    "A plain HF forward over `seqs` (one batch) and one KV-cached decode step on it, fp32 vs bf16, interleaved: seconds."
    from persona_space.models import load_model
    from persona_space.chat import pad_left, positions
    from transformers import DynamicCache
    models = {dt: plain_hf(name, getattr(torch, dt)) for dt in ("float32", "bfloat16")}
    ids, mask = pad_left(seqs, tok.pad_token_id)
    pos = positions(mask)
    def forward(m): 
        with torch.inference_mode(): m(input_ids=ids, attention_mask=mask, position_ids=pos, logits_to_keep=1)
    caches = {}
    for dt, m in models.items():
        caches[dt] = DynamicCache()
        with torch.inference_mode(): m(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=caches[dt], use_cache=True, logits_to_keep=1)
    def decode(dt):
        c = DynamicCache()  # the same one-token step on a copy of the prompt's cache
        for l, layer in enumerate(caches[dt].layers): c.update(layer.keys.clone(), layer.values.clone(), l)
        m2 = torch.cat([mask, mask.new_ones(len(seqs), 1)], 1)
        with torch.inference_mode(): models[dt](input_ids=ids[:, -1:], attention_mask=m2, position_ids=pos[:, -1:] + 1, past_key_values=c, use_cache=True, logits_to_keep=1)
    fns = {f"forward_{dt}": (lambda dt=dt: forward(models[dt])) for dt in models} | {f"decode_{dt}": (lambda dt=dt: decode(dt)) for dt in models}
    med, raw, _ = interleaved(fns, repeats)
    return dict(forward_tokens=int(mask.sum()), medians_s=med, times_s=raw,
                forward_bf16_over_fp32=med["forward_bfloat16"] / med["forward_float32"], decode_bf16_over_fp32=med["decode_bfloat16"] / med["decode_float32"])

def interleaved(fns:dict, repeats:int):
    "Time each function `repeats` times, round-robin; medians, all times, last results."
    ts, last = {k: [] for k in fns}, {}
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter(); last[k] = f(); ts[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in ts.items()}, ts, last

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default"); p.add_argument("--dtype", default="float32")
    p.add_argument("--answers", type=int, default=64); p.add_argument("--batch", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, help="override the grid's 48 (for quick checks)")
    p.add_argument("--repeats", type=int, default=3); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-official", action="store_true"); p.add_argument("--dtype-check", action="store_true")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "0")) or os.cpu_count() or 1)
    from persona_space.models import load_model
    from persona_space.activations import GenerationConfig, stop_ids, recompute_means
    from persona_space.chat import encode_chat
    import persona_space.store as store_mod
    from persona_space.pipeline import generate_stage
    model = load_model(args.model, dtype=args.dtype)
    tok = model.tokenizer
    items, g = workload(args.answers, model.cfg.model_name.split("/")[-1])
    if args.max_new_tokens: import dataclasses; g = dataclasses.replace(g, max_new_tokens=args.max_new_tokens)
    old = baseline_module()
    plain = plain_hf(args.model, model.original_model.dtype)
    stops = set(stop_ids(model, GenerationConfig()))
    tmp = tempfile.mkdtemp(prefix="bench_generation_")
    runs = {"n": 0}
    def stage(loop):  # the generation stage into a fresh run directory, with `loop` as the store's iter_answers
        runs["n"] += 1
        store_mod.iter_answers, keep = loop, store_mod.iter_answers
        try: st = generate_stage(model, Path(tmp)/f"run{runs['n']}", items, g, args.seed, args.batch, progress=False)
        finally: store_mod.iter_answers = keep
        rec = st.records([it["key"] for it in items])
        return rec, st
    from persona_space.activations import iter_answers as new_loop
    fns = dict(baseline=lambda: stage(old.iter_generate), ours=lambda: stage(new_loop))
    if not args.skip_official: fns["official"] = lambda: official_recipe(plain, tok, items, g, args.seed, args.batch, stops)
    # warm-up: one small batch through each path
    w = items[:4]
    old.generate_batch(model, [it["messages"] for it in w], GenerationConfig(max_new_tokens=2))
    from persona_space.activations import answer_batch
    answer_batch(model, [it["messages"] for it in w], GenerationConfig(max_new_tokens=2))
    if not args.skip_official: official_recipe(plain, tok, w, type(g)(max_new_tokens=2), args.seed, args.batch, stops)
    med, raw, last = interleaved(fns, args.repeats)
    # what the runs produced: answer lengths, and whether ours equals the baseline (same seeds) and a run_with_cache recompute
    rec_ours, st_ours = last["ours"]; rec_base, st_base = last["baseline"]
    keys = [it["key"] for it in items]
    n_tok = rec_ours["n_tokens"].astype(int).tolist()
    same = rec_ours["text"].values == rec_base["text"].values
    acts_o, acts_b = st_ours.activations(keys), st_base.activations(keys)
    diff_vs_base = max([float((acts_o[i] - acts_b[i]).abs().max()) for i in range(len(items)) if same[i]], default=float("nan"))
    # one role prompt's questions (a shared prefix) through answer_batch, against a run_with_cache recompute
    probe = answer_batch(model, [it["messages"] for it in items[:4]], GenerationConfig(max_new_tokens=g.max_new_tokens, seed=args.seed), keys[:4])
    diff_vs_recompute = max(float((a.acts - recompute_means(model, it["messages"], a.token_ids)).abs().max()) for a, it in zip(probe, items[:4]))
    # compute bound: plain forwards over every item's prompt + our answer (token ids re-encoded from the stored text is lossy; use lengths)
    prompts = [encode_chat(tok, it["messages"], add_generation_prompt=True).ids for it in items]
    fake = [pids + [pids[-1]] * n for pids, n in zip(prompts, n_tok)]  # same lengths as prompt + answer (the bound depends on shapes only)
    bound = statistics.median(compute_bound(plain, tok, fake, args.batch) for _ in range(args.repeats))
    tokens = sum(map(len, fake))
    res = dict(model=model.cfg.model_name, dtype=args.dtype, answers=len(items), batch=args.batch, max_new_tokens=g.max_new_tokens,
               repeats=args.repeats, answer_tokens=dict(mean=statistics.mean(n_tok), min=min(n_tok), max=max(n_tok)),
               prompt_tokens=dict(mean=statistics.mean(map(len, prompts))), times_s=raw, medians_s=med,
               answers_per_hour={k: 3600 * len(items) / v for k, v in med.items()},
               speedup_vs_baseline=med["baseline"] / med["ours"],
               speedup_vs_official=med["official"] / med["ours"] if "official" in med else None,
               same_text_as_baseline=float(same.mean()), max_abs_diff_of_means_vs_baseline=diff_vs_base,
               max_abs_diff_of_means_vs_recompute=diff_vs_recompute,
               bound_s=bound, bound_tokens_per_s=tokens / bound, tokens=tokens,
               fraction_of_bound={k: bound / v for k, v in med.items()})
    if args.dtype_check: res["dtype_check"] = dtype_check(args.model, prompts[:args.batch], tok, args.repeats)
    print(json.dumps(res, indent=1))
    spread = lambda k: f"{min(raw[k]):.1f}-{max(raw[k]):.1f} s"
    print(f"workload           : {len(items)} reduced-grid role answers ({len(items) // 4} role prompts x 4 questions), "
          f"{res['answer_tokens']['mean']:.0f} answer tokens on average (max {g.max_new_tokens}), {res['prompt_tokens']['mean']:.0f} prompt tokens, {args.dtype}")
    for k in med: print(f"{k:<19}: {res['answers_per_hour'][k]:7.0f} answers/hour (median {med[k]:.1f} s, {spread(k)}), "
                        f"{tokens / med[k]:.0f} tok/s = {res['fraction_of_bound'][k]:.0%} of the compute bound")
    print(f"ours vs baseline   : {res['speedup_vs_baseline']:.2f}x answers per hour (target >= 1.5); {same.mean():.0%} of answers identical, "
          f"their means differ by at most {diff_vs_base:.1e}; vs a run_with_cache recompute: {diff_vs_recompute:.1e}")
    if res["speedup_vs_official"] is not None: print(f"ours vs official   : {res['speedup_vs_official']:.2f}x answers per hour (target >= 1.5)")
    print(f"compute bound      : {res['bound_tokens_per_s']:.0f} tok/s (plain HF forward over the same {tokens} prompt + answer tokens, batch {args.batch})")
    if "dtype_check" in res:
        d = res["dtype_check"]
        print(f"bf16 vs fp32       : a plain forward over {d['forward_tokens']} tokens takes {d['forward_bf16_over_fp32']:.2f}x the fp32 time in bf16, "
              f"a decode step {d['decode_bf16_over_fp32']:.2f}x")
    if args.json:
        with open(args.json, "w") as f: json.dump(res, f, indent=1)

if __name__ == "__main__": main()

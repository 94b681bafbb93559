"""GPU benchmark with no download: an 8B Llama-shaped model with random bf16 weights built in code.

    python bench/gpu.py                       # 8B shape (Llama 3.1 8B: 32 layers, 4096 wide, GQA 32/8, 128256 vocab), bf16, cuda
    python bench/gpu.py --batch-sizes 1,16,64 --tokens 128
    python bench/gpu.py --tiny                # the same code on the CPU with a 4-layer, 64-wide shape: seconds

For each batch size it times, on the same prompts and the same number of new tokens (every answer is forced to
--tokens tokens with min_new_tokens, so random weights cannot end an answer early):
  capture: the project's generation (`persona_space.activations.answer_items`) recording the mean residual stream of
           every layer over the answer;
  hf:      plain Hugging Face `generate` with the same sampling, no capture.
It prints tokens per second (new tokens / wall time), the capture/hf time ratio and the peak GPU memory of each
(`torch.cuda.max_memory_allocated`; on the CPU the process's peak RSS so far). `--json FILE` writes the rows.
"""
import argparse, json, resource, sys, time
import torch

SHAPES = dict(
    llama8b=dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                 num_key_value_heads=8, vocab_size=128256, max_position_embeddings=8192, rope_theta=500000.0),
    tiny=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
              num_key_value_heads=2, vocab_size=512, max_position_embeddings=1024),
)

def random_model(shape:str, dtype, device, seed:int=0):
    "A TransformerLens bridge over a random-weight Llama of `shape`, built directly on `device` (no download, no disk)."
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformer_lens.model_bridge import TransformerBridge
    from persona_space.models import char_tokenizer, check_engine, _bridge_reads_cache_kwarg
    tok = char_tokenizer()  # ids < 260; the model's vocabulary keeps its real size (the unembedding's cost is real)
    cfg = LlamaConfig(**SHAPES[shape], bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(seed)
    with torch.device(device): hf = LlamaForCausalLM._from_config(cfg, dtype=dtype)
    hf.config.architectures = ["LlamaForCausalLM"]
    tok.padding_side = "left"; tok.init_kwargs["add_bos_token"] = True
    _bridge_reads_cache_kwarg()
    model = TransformerBridge.boot_transformers(f"random-{shape}", hf_model=hf.eval(), tokenizer=tok, dtype=dtype, device=device).eval()
    errs = check_engine(model, tol=float("inf"))  # printed, not enforced: random bf16 weights drift more than a trained model's
    print(f"KV-cached decode vs full forward, relative error: logits {errs['logits']:.1e}, residual means {errs['resid_means']:.1e}", flush=True)
    return model

def conversations(n:int, chars:int):
    "`n` distinct chats whose system prompt has about `chars` characters (one token per character here)."
    base = "You are a character in a long story; stay in your role and answer as that character would. "
    return [[{"role": "system", "content": (f"Role {i}. " + base * (1 + chars // len(base)))[:chars]},
             {"role": "user", "content": f"Question {i}: what do you do all day?"}] for i in range(n)]

def peak_reset(device):
    if device.startswith("cuda"): torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()

def peak_gib(device) -> float:
    if device.startswith("cuda"): torch.cuda.synchronize(); return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB (peak RSS so far)

def timed(fn, device):
    peak_reset(device)
    t = time.perf_counter(); out = fn()
    if device.startswith("cuda"): torch.cuda.synchronize()
    return time.perf_counter() - t, peak_gib(device), out

def bench(model, batch_sizes, tokens:int, chars:int, device:str, repeats:int=1):
    from persona_space.activations import GenerationConfig, answer_items
    from persona_space.chat import encode_chat, pad_left
    tok, hf = model.tokenizer, model.original_model
    rows = []
    for B in batch_sizes:
        convs = conversations(B, chars)
        items = [dict(key=str(i), messages=c) for i, c in enumerate(convs)]
        cfg = GenerationConfig(max_new_tokens=tokens, min_new_tokens=tokens, temperature=0.7, top_p=0.9, batch_size=B)
        ids, mask = pad_left([encode_chat(tok, c, add_generation_prompt=True).ids for c in convs], tok.pad_token_id, device)
        def capture(): return answer_items(model, items, cfg, progress=False)
        @torch.inference_mode()
        def plain(): return hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=tokens, min_new_tokens=tokens,
                                        do_sample=True, temperature=0.7, top_p=0.9, pad_token_id=tok.pad_token_id)
        for f in (capture, plain): f()  # warm-up (kernels, allocator)
        res = {}
        for name, f in (("capture", capture), ("hf", plain)):
            runs = [timed(f, device) for _ in range(repeats)]
            s = sorted(r[0] for r in runs)[len(runs) // 2]
            out = runs[-1][2]
            n_new = sum(a.n_tokens for a in out) if name == "capture" else int((out.shape[1] - ids.shape[1]) * B)
            res[name] = dict(seconds=round(s, 4), tok_per_s=round(n_new / s, 1), peak_gib=round(max(r[1] for r in runs), 3), new_tokens=n_new)
        rows.append(dict(batch=B, prompt_tokens=int(ids.shape[1]), **{f"{k}_{m}": v for k, r in res.items() for m, v in r.items()},
                         capture_over_hf=round(res["capture"]["seconds"] / res["hf"]["seconds"], 3)))
        print(f"batch {B:4d}  prompt {ids.shape[1]:4d} tok  capture {res['capture']['tok_per_s']:9.1f} tok/s "
              f"({res['capture']['peak_gib']:.2f} GiB)  hf generate {res['hf']['tok_per_s']:9.1f} tok/s ({res['hf']['peak_gib']:.2f} GiB)  "
              f"time ratio {rows[-1]['capture_over_hf']:.2f}", flush=True)
    return rows

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tiny", action="store_true", help="tiny shape on the CPU (a check of the script, seconds)")
    p.add_argument("--shape", default=None, choices=list(SHAPES), help="model shape (default: llama8b, or tiny with --tiny)")
    p.add_argument("--device", default=None, help="default: cuda (cpu with --tiny)")
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--batch-sizes", default=None, help="comma-separated (default: 1,8,32; 1,4 with --tiny)")
    p.add_argument("--tokens", type=int, default=None, help="new tokens per answer (default: 64; 8 with --tiny)")
    p.add_argument("--prompt-chars", type=int, default=None, help="system prompt length in characters = tokens (default: 300; 40 with --tiny)")
    p.add_argument("--repeats", type=int, default=1, help="timed runs per setting (the median is printed)")
    p.add_argument("--json", default=None, help="write the rows to this file")
    a = p.parse_args(argv)
    shape, device = a.shape or ("tiny" if a.tiny else "llama8b"), a.device or ("cpu" if a.tiny else "cuda")
    bs = [int(x) for x in (a.batch_sizes or ("1,4" if a.tiny else "1,8,32")).split(",")]
    tokens, chars = a.tokens or (8 if a.tiny else 64), a.prompt_chars or (40 if a.tiny else 300)
    if device.startswith("cuda") and not torch.cuda.is_available(): sys.exit("bench/gpu.py: no CUDA device here; use --tiny for the CPU check")
    from persona_space.models import as_dtype
    t = time.perf_counter()
    model = random_model(shape, as_dtype(a.dtype), device)
    n_params = sum(x.numel() for x in model.original_model.parameters())
    gpu = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    print(f"{shape}: {n_params / 1e6:,.1f} M parameters, {a.dtype}, {gpu}, built in {time.perf_counter() - t:.1f} s; "
          f"{tokens} new tokens per answer, all {model.cfg.n_layers} layers captured", flush=True)
    rows = bench(model, bs, tokens, chars, device, a.repeats)
    info = dict(shape=shape, params=n_params, dtype=a.dtype, device=gpu, tokens=tokens, torch=torch.__version__, rows=rows)
    if a.json: open(a.json, "w").write(json.dumps(info, indent=1))
    return info

if __name__ == "__main__":
    main()

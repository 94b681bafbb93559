"""Load test for `persona-space serve`: chat requests sent C at a time, through the official `openai` client, to a server
on the loopback address. For each cap setting and concurrency it prints the latency p50/p95, the throughput
(requests/s, completion tokens/s), the errors and how the engine batched. Each phase stops after --requests requests
or --duration seconds, whichever comes first (requests in flight are waited for). Nothing leaves 127.0.0.1.

    .venv/bin/python bench/serve_load.py --model tiny                                    # the mechanics, in seconds
    .venv/bin/python bench/serve_load.py --model default --requests 32 --concurrency 1 8 # the embedded SmolLM2-135M
    .venv/bin/python bench/serve_load.py --url http://127.0.0.1:8000/v1 --served-model-name smol --caps off   # a running server

Without --url the server runs in this process (uvicorn in a thread, `ServerThread`). Without --run, the axis is random
and the cap preset is calibrated on the model's own answers (floor at their median over the middle 8 layers), as in
bench/capping.py: the floors then act on about half the tokens, which is what the timing needs; the projections mean nothing.
In-process, --overhead N also times N requests through HTTP and straight through `complete_batch`, alternately, and
prints the ratio: what the server itself costs, measured so that the machine's noise hits both alike.
"""
import argparse, json, statistics, sys, time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

def synthetic_run(model, n_layers:int=8):
    "A PersonaRun with a random axis and one preset whose floors sit at the median of the model's own answers."
    import torch
    from persona_space.activations import GenerationConfig, answer_batch
    from persona_space.interventions import calibrate_caps
    from persona_space.serve import PersonaRun, cap_spec
    L, D = model.cfg.n_layers, model.cfg.d_model
    axis = torch.randn(L, D, generator=torch.Generator().manual_seed(0))
    convs = [[{"role": "user", "content": f"Tell me something about topic number {i}."}] for i in range(8)]
    calib = torch.stack([a.acts for a in answer_batch(model, convs, GenerationConfig(max_new_tokens=16, seed=0))])
    k = min(n_layers, L); a = (L - k) // 2
    caps = calibrate_caps(calib, axis, f"{a}:{a + k}", 50, source="synthetic")
    return PersonaRun(axis, L // 2, {cap_spec(caps.layers, caps.percentile): caps}, source="synthetic (random axis)")

def percentile(xs:list[float], q:float) -> float:
    xs = sorted(xs); i = (len(xs) - 1) * q / 100
    lo, hi = int(i), min(int(i) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)

def phase(client, name:str, cap:str, concurrency:int, n:int, duration:float, tokens:int, health):
    "Send up to `n` requests, `concurrency` at a time, for at most `duration` seconds; the figures of the phase."
    import openai
    lat, toks, errors, deadline = [], [], {}, time.monotonic() + duration
    def one(i):
        if time.monotonic() > deadline: return
        t = time.monotonic()
        try:
            r = client.chat.completions.create(model=name, messages=[{"role": "user", "content": f"Request {i}: tell me about the sea."}],
                                               max_tokens=tokens, temperature=0.7, seed=i, extra_body={"persona": {"cap": cap}})
            lat.append(time.monotonic() - t); toks.append(r.usage.completion_tokens)
        except openai.APIStatusError as e: errors[e.status_code] = errors.get(e.status_code, 0) + 1
    before = health()
    t0 = time.monotonic()
    with ThreadPoolExecutor(concurrency) as ex: list(ex.map(one, range(n)))
    wall = time.monotonic() - t0
    after = health()
    batches = {k: after.get(k, 0) - before.get(k, 0) for k in ("batches", "answered")}
    return dict(cap=cap, concurrency=concurrency, requests=len(lat), errors=errors, seconds=round(wall, 2),
                latency_p50=round(percentile(lat, 50), 3) if lat else None, latency_p95=round(percentile(lat, 95), 3) if lat else None,
                requests_per_s=round(len(lat) / wall, 2), completion_tokens_per_s=round(sum(toks) / wall, 1),
                mean_batch=round(batches["answered"] / batches["batches"], 2) if batches.get("batches") else None)

def overhead(client, app, name:str, cap:str, n:int, tokens:int):
    "The same request through HTTP and straight through `complete_batch`, alternately (one at a time): the server's overhead."
    from persona_space.serve import ChatRequest, complete_batch
    eng, http, direct = app.state.engine, [], []
    for i in range(n):
        msgs = [{"role": "user", "content": f"Request {i}: tell me about the sea."}]
        t = time.monotonic()
        r = client.chat.completions.create(model=name, messages=msgs, max_tokens=tokens, temperature=0.7, seed=i, extra_body={"persona": {"cap": cap}})
        http.append(time.monotonic() - t)
        with eng.lock:
            t = time.monotonic()
            d, = complete_batch(eng.model, [ChatRequest(msgs, tokens, 0.7, seed=i, cap=cap)], eng.run, eng.max_tokens)
            direct.append(time.monotonic() - t)
        assert d.text == r.choices[0].message.content, "the server and complete_batch disagree"
    h, d = statistics.median(http), statistics.median(direct)
    return dict(cap=cap, requests=n, http_p50=round(h, 3), direct_p50=round(d, 3), overhead=round(h / d, 3))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="tiny", help="model to serve in-process (default: %(default)s)"); p.add_argument("--dtype", default="float32")
    p.add_argument("--run", default=None, help="a run directory for the axis and presets (default: a synthetic run)")
    p.add_argument("--url", default=None, help="an already running server's /v1 URL (loopback only) instead of an in-process one")
    p.add_argument("--served-model-name", default=None, help="with --url: the model name to ask for (default: the first of /v1/models)")
    p.add_argument("--caps", nargs="+", default=None, help="cap settings to measure (default: off and the run's first preset)")
    p.add_argument("--concurrency", type=int, nargs="+", default=[8], help="requests in flight (default: %(default)s)")
    p.add_argument("--requests", type=int, default=64, help="requests per phase, at most (default: %(default)s)")
    p.add_argument("--duration", type=float, default=60, help="seconds per phase, at most (default: %(default)s)")
    p.add_argument("--tokens", type=int, default=32, help="max_tokens of each request (default: %(default)s)")
    p.add_argument("--max-batch", type=int, default=16); p.add_argument("--batch-wait-ms", type=float, default=5)
    p.add_argument("--overhead", type=int, default=6, help="in-process only: requests timed through HTTP and directly, alternately (0: skip)")
    args = p.parse_args(argv)
    import httpx
    from openai import OpenAI
    server = None
    if args.url:
        if urlparse(args.url).hostname not in LOOPBACK: sys.exit(f"serve_load: only loopback servers ({', '.join(sorted(LOOPBACK))}), not {args.url}")
        base = args.url.rstrip("/")
    else:
        from persona_space.models import load_model
        from persona_space.serve import build_app, load_persona_run, ServerThread
        t = time.monotonic()
        model = load_model(args.model, dtype=args.dtype)
        run = load_persona_run(args.run, model, cap="off") if args.run else synthetic_run(model)
        app = build_app(model, run, max_batch=args.max_batch, batch_wait=args.batch_wait_ms / 1000)
        server = ServerThread(app).__enter__()
        base = f"{server.url}/v1"
        print(f"serving {model.cfg.model_name} in-process at {base} ({time.monotonic() - t:.1f} s to load; axis: {run.source})", file=sys.stderr)
    try:
        client = OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=600)
        card = client.models.list().data[0]
        name = args.served_model_name or card.id
        caps = args.caps or ["off", *((card.model_extra.get("persona") or {}).get("presets", ["off"])[1:2])]
        health = lambda: httpx.get(base.removesuffix("/v1") + "/health").json()
        client.chat.completions.create(model=name, messages=[{"role": "user", "content": "warm-up"}], max_tokens=4)
        rows = [phase(client, name, cap, c, args.requests, args.duration, args.tokens, health) for cap in caps for c in args.concurrency]
        over = [overhead(client, app, name, cap, args.overhead, args.tokens) for cap in caps] if server is not None and args.overhead else []
    finally:
        if server is not None: server.__exit__()
    cols = ["cap", "concurrency", "requests", "seconds", "latency_p50", "latency_p95", "requests_per_s", "completion_tokens_per_s", "mean_batch", "errors"]
    print(" | ".join(cols)); print(" | ".join("---" for _ in cols))
    for r in rows: print(" | ".join(str(r[c]) for c in cols))
    for o in over: print(f"server overhead, cap {o['cap']}: HTTP p50 {o['http_p50']} s vs complete_batch p50 {o['direct_p50']} s = {o['overhead']}x ({o['requests']} requests, alternated)")
    print(json.dumps(dict(model=name, tokens=args.tokens, max_batch=args.max_batch, phases=rows, overhead=over)))

if __name__ == "__main__": main()

"""Peak memory of the run store and the whole analysis at N and 2N answers: does it stay flat as a run grows?

    .venv/bin/python bench/memory.py                 # a 64-layer, 5120-wide model (Qwen3-32B's shape), bf16 storage, N=2000
    .venv/bin/python bench/memory.py --tiny          # a 4-layer, 32-wide shape and N=200: the mechanics in seconds
    .venv/bin/python bench/memory.py --in-memory     # also the old path: every answer loaded (`RunStore.activations`) first

Synthetic answers (random activations around a few role, Assistant and trait offsets, records shaped like the reduced
grid's: system prompt, question, answer text) are written through `RunStore` in batches of 32, then analysed as
`run_persona_space` does: `analyse` over a `StoredActivations` view (role, Assistant and trait vectors, the axis, PCA by
layer, the answers' projections, every table and `results.json`), then `Run.caps` calibrates a window of 8 layers (or
n_layers/8) at the 25th percentile. The number of roles and traits is fixed; N only changes how many answers each has.

Each measurement runs in a fresh subprocess (writing, then analysing, each its own process), whose peak RSS is
`resource.getrusage(RUSAGE_SELF).ru_maxrss`; rounds alternate N, 2N, N, 2N... (--repeats rounds) and the table shows
medians. The store is deleted after each measurement. The target: analysis peak RSS at 2N at most 1.1x that at N.
Disk: about n_layers * d_model * 2 bytes per answer in bf16 (0.66 MB for 64 x 5120), so 2N=4000 needs 2.6 GB.
"""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPES = dict(full=dict(layers=64, d_model=5120, n=2000, roles=50, traits=10),
              tiny=dict(layers=4, d_model=32, n=200, roles=5, traits=3))

def peak_rss_mb() -> float:
    "This process's peak resident set size so far, in MB (Linux reports KB)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def synthetic_records(n:int, n_roles:int, n_traits:int) -> list[dict]:
    "`n` answer records: 70% role answers spread over `n_roles`, 10% default, 20% trait pairs over `n_traits`, with scores."
    n_role, n_default = int(n * 0.7), int(n * 0.1)
    n_pairs = (n - n_role - n_default) // 2
    system = "Take on the role of a character with a long history and a distinctive voice. " * 4  # ~300 characters, as a role prompt
    answer = "An answer of about forty-eight tokens, in character, about the question that was asked. " * 3
    recs = []
    for i in range(n_role):
        r = i % n_roles
        recs.append(dict(key=f"role/r{r}/p0/q{i}", kind="role", role=f"r{r}", role_category=("human", "fantastical", "nonhuman")[r % 3],
                         prompt=0, question=i, messages=[{"role": "system", "content": system}, {"role": "user", "content": f"Question {i}?"}],
                         text=answer, n_tokens=48, score=(3, 2, 3, 2, 1)[(i // n_roles) % 5]))
    for i in range(n_default):
        recs.append(dict(key=f"default/p0/q{i}", kind="default", role="default", role_kind="default", prompt=0, question=i,
                         messages=[{"role": "user", "content": f"Question {i}?"}], text=answer, n_tokens=48, score=None))
    for i in range(n_pairs):
        t = i % n_traits
        for pole, s in (("pos", 80.0), ("neg", 20.0)):
            recs.append(dict(key=f"trait/t{t}/{pole}/p0/q{i}", kind="trait", trait=f"t{t}", pole=pole, pair=0, question=i,
                             question_text=f"Trait question {i}?", messages=[{"role": "system", "content": system}, {"role": "user", "content": "?"}],
                             text=answer, n_tokens=48, score=s))
    return recs

def write(d:Path, n:int, layers:int, d_model:int, roles:int, traits:int, dtype:str, batch:int=32) -> dict:
    "Write `n` synthetic answers into the run store `d/generations`; seconds and bytes on disk per answer."
    import torch
    from persona_space.store import RunStore
    t0, g = time.perf_counter(), torch.Generator().manual_seed(0)
    st = RunStore(d/"generations", dict(model=dict(name="synthetic", n_layers=layers, d_model=d_model), layers=list(range(layers)), acts_dtype=dtype))
    recs = synthetic_records(n, roles, traits)
    direction = torch.randn(layers, d_model, generator=g)  # one direction the groups are offset along
    offset = lambda r: 3.0 if r["kind"] == "default" else (1.0 if r.get("pole") == "pos" else -1.0) if r["kind"] == "trait" else int(r["role"][1:]) / roles - 0.5
    for a in range(0, len(recs), batch):
        b = recs[a:a + batch]
        x = torch.randn(len(b), layers, d_model, generator=g) + torch.tensor([offset(r) for r in b])[:, None, None] * direction
        st.add(b, x)
    disk = sum(f.stat().st_size for f in (d/"generations").rglob("*") if f.is_file())
    return dict(seconds=time.perf_counter() - t0, disk_bytes_per_answer=disk / n, answers=len(st))

def analyse_store(d:Path, layers:int, rows:int, in_memory:bool=False) -> dict:
    "The whole analysis of the store in `d` (`analyse` and `Run.caps`); seconds and what it found."
    from persona_space.store import RunStore, StoredActivations
    from persona_space.pipeline import analyse, Grid
    from persona_space.run import Run
    t0 = time.perf_counter()
    st = RunStore(d/"generations")
    rec = st.records().drop(columns=["messages"])
    acts = st.activations(rec.key) if in_memory else StoredActivations(st, rec.key, rows=rows)
    g = Grid(recipe="paper", trait_min_gap=50, trait_min_pairs=3)
    res = analyse(rec, acts, g, d, dict(model=st.config["model"]))
    w = max(1, layers // 8); a = int(layers * 0.4)
    caps = Run(d).caps(f"{a}:{a + w}", 25, rows=rows)
    return dict(seconds=time.perf_counter() - t0, n_role_vectors=res["n_role_vectors"], n_trait_vectors=res.get("n_trait_vectors", 0),
                cos_axis_pc1=res["cos_axis_pc1"], capped_layers=caps.layers)

def child(args):
    "One measurement in this (fresh) process: print its result and peak RSS as one JSON line."
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "0")) or 1)
    d = Path(args.dir)
    if args.child == "write": out = write(d, args.n, args.layers, args.d_model, args.roles, args.traits, args.dtype)
    else: out = analyse_store(d, args.layers, args.rows, args.child == "analyse-in-memory")
    print(json.dumps(dict(out, peak_rss_mb=peak_rss_mb())))

def measure(step:str, d:Path, n:int, args) -> dict:
    "Run `step` of one measurement in a fresh subprocess; its JSON result."
    cmd = [sys.executable, __file__, "--child", step, "--dir", str(d), "--n", str(n), "--layers", str(args.layers), "--d-model", str(args.d_model),
           "--roles", str(args.roles), "--traits", str(args.traits), "--dtype", args.dtype, "--rows", str(args.rows)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0: raise RuntimeError(f"{step} at n={n} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def run_bench(args) -> dict:
    "Interleaved rounds N, 2N, N, 2N...; medians per size and the 2N/N ratios."
    steps = ["write", "analyse"] + (["analyse-in-memory"] if args.in_memory else [])
    sizes, raw = [args.n, 2 * args.n], []
    base = Path(args.dir or tempfile.mkdtemp(prefix="memory-bench-", dir="/tmp"))
    try:
        for rep in range(args.repeats):
            for n in sizes:
                d = base/f"n{n}-r{rep}"
                row = dict(n=n, repeat=rep, **{s: measure(s, d, n, args) for s in steps})
                raw.append(row); shutil.rmtree(d, ignore_errors=True)
                print(f"  round {rep + 1}/{args.repeats}, N={n}: " + ", ".join(f"{s} {row[s]['peak_rss_mb']:.0f} MB in {row[s]['seconds']:.1f} s" for s in steps), file=sys.stderr, flush=True)
    finally:
        if not args.dir: shutil.rmtree(base, ignore_errors=True)
    med = {n: {s: {k: statistics.median(r[s][k] for r in raw if r["n"] == n) for k in ("peak_rss_mb", "seconds")} for s in steps} for n in sizes}
    disk = {n: statistics.median(r["write"]["disk_bytes_per_answer"] for r in raw if r["n"] == n) for n in sizes}
    ratio = {s: med[sizes[1]][s]["peak_rss_mb"] / med[sizes[0]][s]["peak_rss_mb"] for s in steps}
    return dict(shape=dict(n_layers=args.layers, d_model=args.d_model, roles=args.roles, traits=args.traits, dtype=args.dtype, rows=args.rows),
                sizes=sizes, repeats=args.repeats, medians=med, disk_bytes_per_answer=disk, rss_ratio_2n_over_n=ratio,
                found={s: raw[-1][s] for s in steps if s != "write"}, raw=raw)

def print_table(res:dict):
    n1, n2 = res["sizes"]; sh = res["shape"]
    print(f"{sh['n_layers']} layers x {sh['d_model']}, {sh['dtype']} storage, {sh['roles']} roles, {sh['traits']} traits, chunks of {sh['rows']} answers; "
          f"medians of {res['repeats']} interleaved rounds")
    print(f"{'step':<18} {'peak RSS at N=' + str(n1):>20} {'peak RSS at 2N=' + str(n2):>21} {'2N/N':>6} {'s at N':>8} {'s at 2N':>8}")
    for s, r in res["rss_ratio_2n_over_n"].items():
        m1, m2 = res["medians"][n1][s], res["medians"][n2][s]
        print(f"{s:<18} {m1['peak_rss_mb']:>17.0f} MB {m2['peak_rss_mb']:>18.0f} MB {r:>6.3f} {m1['seconds']:>8.1f} {m2['seconds']:>8.1f}")
    d1, d2 = res["disk_bytes_per_answer"][n1], res["disk_bytes_per_answer"][n2]
    print(f"disk per answer: {d1:,.0f} bytes at N, {d2:,.0f} at 2N (activations alone: {sh['n_layers'] * sh['d_model'] * (4 if sh['dtype'] == 'float32' else 2):,} bytes)")
    a = res["rss_ratio_2n_over_n"]["analyse"]
    print(f"analysis peak RSS 2N/N = {a:.3f} (target <= 1.1: {'met' if a <= 1.1 else 'NOT met'})")

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="a small shape and N, for a quick check")
    p.add_argument("--n", type=int); p.add_argument("--layers", type=int); p.add_argument("--d-model", type=int)
    p.add_argument("--roles", type=int); p.add_argument("--traits", type=int)
    p.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float16", "float32"))
    p.add_argument("--rows", type=int, default=64, help="answers per chunk the analysis reads")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--in-memory", action="store_true", help="also measure the old path (all activations loaded, then analysed)")
    p.add_argument("--dir", help="where the stores go (default: a fresh folder under /tmp, removed at the end)")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for k, v in SHAPES["tiny" if args.tiny else "full"].items():
        if getattr(args, k) is None: setattr(args, k, v)
    if args.child: return child(args)
    res = run_bench(args)
    print_table(res)
    if args.json: Path(args.json).write_text(json.dumps(res, indent=1))
    return res

if __name__ == "__main__": main()

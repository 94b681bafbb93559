"""What the storage dtype of activations does to a run's results: re-run `analyse` on a finished run, streamed from its
store as it is, and from copies of its store in bfloat16 and float16 (each answer's means rounded once, as a run that
stores that dtype writes them); print the largest differences from the run's own results, vectors and tables.

    .venv/bin/python bench/store_dtype.py                                  # the documented default run
    .venv/bin/python bench/store_dtype.py --run _runs/my-run --dtypes bfloat16

The run directory is only read: each analysis writes into its own folder under --work (default: a fresh temporary one).
The answers' scores come from the run's `tables/answers.csv`, so no judge is needed.
"""
import argparse, json, shutil, tempfile
from pathlib import Path
import numpy as np, pandas as pd

def vector_diffs(ref:Path, out:Path) -> dict:
    "Per vector file: largest absolute difference, largest value, largest relative difference of per-layer norms."
    from persona_space.vectors import load_vectors
    res = {}
    for name in ("roles", "assistant", "axis", "traits"):
        if not (ref/"vectors"/f"{name}.safetensors").exists(): continue
        a, b = load_vectors(ref/"vectors"/f"{name}.safetensors"), load_vectors(out/"vectors"/f"{name}.safetensors")
        va, vb = (a.vectors, b.vectors) if hasattr(a, "vectors") else (a[0], b[0])
        res[name] = dict(max_abs_diff=float((va - vb).abs().max()), max_abs=float(va.abs().max()),
                         max_rel_norm_diff=float(((va.norm(dim=-1) - vb.norm(dim=-1)).abs() / va.norm(dim=-1)).max()))
    return res

def result_diffs(ref:dict, new:dict) -> tuple[dict, list]:
    "Largest absolute difference of each numeric field of results.json; the other fields that differ."
    num, other = {}, []
    for k, v in ref.items():
        if k == "seconds": continue
        w = new.get(k)
        if isinstance(v, float): num[k] = abs(w - v)
        elif isinstance(v, list) and v and isinstance(v[0], float): num[k] = float(np.max(np.abs(np.array(w) - np.array(v))))
        elif w != v: other.append(k)
    return num, other

def table_diffs(ref:Path, out:Path) -> dict:
    "Per table: same shape and non-numeric columns, and the largest difference of its numbers."
    res = {}
    for t in sorted((ref/"tables").glob("*.csv")):
        A, B = pd.read_csv(t), pd.read_csv(out/"tables"/t.name)
        same = A.shape == B.shape and list(A.columns) == list(B.columns)
        num = A.select_dtypes("number").columns
        eq = same and all(A[c].fillna("").astype(str).equals(B[c].fillna("").astype(str)) for c in A.columns if c not in num)
        d = float(np.nanmax(np.abs(A[num].to_numpy(float) - B[num].to_numpy(float)))) if same and len(num) else float("nan")
        res[t.stem] = dict(same_rows_and_labels=bool(eq), max_abs_diff=d)
    return res

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default=str(Path(__file__).resolve().parents[1]/"_runs"/"default-reduced"))
    p.add_argument("--dtypes", default="bfloat16,float16"); p.add_argument("--work"); p.add_argument("--json")
    args = p.parse_args()
    from persona_space.store import RunStore, StoredActivations
    from persona_space.pipeline import analyse, make_grid, Grid
    from persona_space.vectors import RECIPES
    run, work = Path(args.run), Path(args.work or tempfile.mkdtemp(prefix="store-dtype-"))
    ref = json.loads((run/"results.json").read_text())
    rec = pd.read_csv(run/"tables"/"answers.csv").drop(columns="projection")
    info = {k: ref[k] for k in ("model", "grid", "grid_fields", "judge", "prompts", "seed") if k in ref}
    fields = dict(ref["grid_fields"]); recipe = fields.pop("recipe")  # the grid the run was analysed with
    g = Grid(**fields, recipe=recipe if recipe in RECIPES else make_grid(ref["grid"]).recipe)
    st = RunStore(run/"generations")
    report = {}
    for dt in ["as stored"] + args.dtypes.split(","):
        out = work/dt.replace(" ", "-")
        if dt == "as stored": src = st
        else:
            src = RunStore(out/"generations", {**st.config, "acts_dtype": dt})
            keys = st.keys()
            for a in range(0, len(keys), 32):
                ks = keys[a:a + 32]
                src.add([{k: v for k, v in st._recs[x].items() if not k.startswith("_")} for x in ks], st.activations(ks))
        new = analyse(rec, StoredActivations(src, rec.key), g, out, info)
        num, other = result_diffs(ref, new)
        disk = sum(f.stat().st_size for f in (src.path/"acts").glob("*.safetensors"))
        report[dt] = dict(store_dtype=src.acts_dtype, acts_bytes_per_answer=disk / len(src), results=num, results_other_fields_differ=other,
                          vectors=vector_diffs(run, out), tables=table_diffs(run, out))
        r = report[dt]
        print(f"== {dt} ({r['store_dtype']}, {r['acts_bytes_per_answer']:,.0f} bytes of activations per answer): "
              f"other results.json fields that differ: {other or 'none'}")
        print("   results.json, largest abs diff: " + ", ".join(f"{k} {v:.1e}" for k, v in num.items()))
        for k, v in r["vectors"].items():
            print(f"   vectors/{k}: largest abs diff {v['max_abs_diff']:.1e} (largest value {v['max_abs']:.0f}), largest rel diff of a norm {v['max_rel_norm_diff']:.1e}")
        for k, v in r["tables"].items():
            print(f"   tables/{k}: same rows and labels {v['same_rows_and_labels']}, largest abs diff {v['max_abs_diff']:.1e}")
    if args.json: Path(args.json).write_text(json.dumps(report, indent=1))
    if not args.work: shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__": main()

"bench/memory.py: the tiny benchmark runs end to end, and the analysis it measures never holds more than `rows` answers' activations at once."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/"bench"))
import memory  # bench/memory.py

def test_memory_bench_tiny(tmp_path):
    out = tmp_path/"memory.json"
    r = subprocess.run([sys.executable, str(ROOT/"bench"/"memory.py"), "--tiny", "--repeats", "1", "--json", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    n1, n2 = res["sizes"]
    assert n2 == 2 * n1 == 400
    for step in ("write", "analyse"):  # the ratio is the one of the two medians, each from its own process
        m1, m2 = res["medians"][str(n1)][step]["peak_rss_mb"], res["medians"][str(n2)][step]["peak_rss_mb"]
        assert m1 > 0 and m2 > 0 and res["rss_ratio_2n_over_n"][step] == pytest.approx(m2 / m1)
    sh = res["shape"]
    assert res["disk_bytes_per_answer"][str(n1)] > sh["n_layers"] * sh["d_model"] * 2  # activations in bf16, plus the record
    assert res["found"]["analyse"]["n_role_vectors"] == 2 * sh["roles"]  # scores 2 and 3 of every role
    assert "2N/N" in r.stdout and "analysis peak RSS 2N/N" in r.stdout
    assert not list(tmp_path.glob("memory-bench-*"))

def test_analysis_reads_at_most_rows_answers_at_once(tmp_path, monkeypatch):
    from persona_space.store import RunStore
    n, layers, rows = 150, 8, 7
    memory.write(tmp_path/"a", n, layers, 16, roles=4, traits=2, dtype="bfloat16")
    shutil.copytree(tmp_path/"a", tmp_path/"b")
    loaded = memory.analyse_store(tmp_path/"b", layers, rows, in_memory=True)  # the old way: every answer in one tensor
    chunks, real_iter = [], RunStore.iter_activations
    def spy(self, keys=None, layers=None, rows=64):
        for p, x in real_iter(self, keys, layers, rows): chunks.append((len(p), x.shape[1])); yield p, x
    def refuse(self, keys=None): raise AssertionError("the analysis stacked the activations of the whole store")
    monkeypatch.setattr(RunStore, "iter_activations", spy)
    monkeypatch.setattr(RunStore, "activations", refuse)
    streamed = memory.analyse_store(tmp_path/"a", layers, rows)
    assert chunks and max(k for k, _ in chunks) <= rows
    assert sum(k for k, l in chunks if l == layers) <= n + 2  # every layer of an answer read once (plus one-answer shape probes)
    assert {l for _, l in chunks} <= {layers, 1, layers // 8}  # otherwise only the middle layer (projections) or the capped ones
    assert streamed["n_role_vectors"] == loaded["n_role_vectors"] and streamed["capped_layers"] == loaded["capped_layers"]
    assert streamed["cos_axis_pc1"] == pytest.approx(loaded["cos_axis_pc1"], abs=1e-5)
    for f in ("results.json", "tables/answers.csv", "tables/pca_by_layer.csv"):
        assert (tmp_path/"a"/f).read_text().count("\n") == (tmp_path/"b"/f).read_text().count("\n")

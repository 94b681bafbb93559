"bench/gpu.py's CPU path: the tiny shape runs the capture and plain-generate timings end to end in seconds."
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_gpu_bench_tiny_on_cpu(tmp_path):
    out = tmp_path/"gpu.json"
    r = subprocess.run([sys.executable, str(ROOT/"bench"/"gpu.py"), "--tiny", "--batch-sizes", "1,3", "--tokens", "5",
                        "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads(out.read_text())
    assert info["shape"] == "tiny" and info["device"] == "cpu" and [x["batch"] for x in info["rows"]] == [1, 3]
    for row in info["rows"]:  # every answer is forced to the full length in both modes: equal work
        assert row["capture_new_tokens"] == row["hf_new_tokens"] == 5 * row["batch"], row
        assert row["capture_tok_per_s"] > 0 and row["hf_tok_per_s"] > 0 and row["capture_peak_gib"] > 0
    assert "tok/s" in r.stdout and "time ratio" in r.stdout

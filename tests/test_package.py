"The built wheel is a working package: modules, data files and the console command are in it."
import subprocess, sys, zipfile, os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                   check=True, cwd=out)
    (whl,) = out.glob("persona_space-*.whl")
    return whl

def test_wheel_has_modules_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    mods = {f"persona_space/{p.name}" for p in (ROOT/"persona_space").glob("*.py")}
    assert mods and mods <= names, mods - names
    data = {f"persona_space/data/{p.relative_to(ROOT/'data').as_posix()}" for p in (ROOT/"data").rglob("*") if p.is_file()}
    assert data and data <= names, sorted(data - names)[:5]
    ep = next(n for n in names if n.endswith("entry_points.txt"))
    assert "persona-space = persona_space.cli:main" in zipfile.ZipFile(wheel).read(ep).decode()

def test_installed_wheel_imports_and_finds_data(wheel, tmp_path):
    "Install the wheel into a bare target folder and use it from outside the checkout."
    target = tmp_path/"site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True)
    code = ("import persona_space, persona_space.models as m, persona_space.cli; from pathlib import Path; "
            "p = Path(persona_space.__file__).parent; print(p); print((p/'data'/'README.md').exists()); "
            "print(m.load_model('tiny').cfg.n_layers)")
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[0].startswith(str(target)), out
    assert out[1:] == ["True", "4"]

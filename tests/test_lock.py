"The environment is locked: the package asks for ranges, requirements.lock pins every package, and the venv is the lock."
import configparser, re
from importlib.metadata import version, PackageNotFoundError
from pathlib import Path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
import pytest

ROOT = Path(__file__).resolve().parents[1]

def _settings():
    c = configparser.ConfigParser(delimiters=['=']); c.read(ROOT/"settings.ini")
    return c["DEFAULT"]

def _requirements(*keys):
    cfg = _settings()
    return [Requirement(r) for k in keys for r in cfg.get(k, "").split()]

def _lock() -> dict:
    pins = {}
    for line in (ROOT/"requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if m: pins[canonicalize_name(m[1])] = m[2]
    return pins

ALL = ("requirements", "dev_requirements", "embed_requirements", "serve_requirements", "ray_requirements")

def test_package_requirements_are_ranges_not_torch_pins():
    for r in _requirements("requirements", "embed_requirements", "serve_requirements"):
        if canonicalize_name(r.name) == "torch":
            assert not any(s.operator == "==" for s in r.specifier), f"{r}: a GPU user's CUDA torch must survive the install"

def test_lock_pins_every_requirement_within_its_range():
    pins = _lock()
    assert len(pins) >= 100, len(pins)
    for r in _requirements(*ALL):
        name = canonicalize_name(r.name)
        assert name in pins, f"{r.name} is required but not in requirements.lock: run tools/lock.sh"
        assert r.specifier.contains(pins[name], prereleases=True), f"lock has {r.name}=={pins[name]}, outside {r.specifier}"

def test_transformers_upper_bound_is_set():
    (tf,) = [r for r in _requirements("requirements") if r.name == "transformers"]
    assert any(s.operator == "<" for s in tf.specifier), "transformers needs an upper bound (5.25 is untested with TL 4.3)"

def test_installed_environment_is_the_lock():
    "What tools/setup.sh installed is exactly what the lock says (the test runs in that environment)."
    off = []
    for name, v in _lock().items():
        try: got = version(name)
        except PackageNotFoundError: off.append(f"{name} missing"); continue
        if got != v: off.append(f"{name} {got} != {v}")
    assert not off, off

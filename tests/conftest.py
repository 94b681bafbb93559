import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import pytest

@pytest.fixture(scope="session")
def tiny():
    from persona_space.models import load_model
    return load_model("tiny")

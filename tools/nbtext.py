"""Edit notebooks as text without churning cell ids (developer tool).

    python tools/nbtext.py dump nbs/00_models.ipynb > /tmp/models.txt   # notebook -> text
    python tools/nbtext.py load /tmp/models.txt nbs/00_models.ipynb     # text -> notebook

A cell starts with a line `# %% [code] id=<id> tags=a,b` or `# %% [markdown] id=<id>`; everything up to the next
such line is the cell's source (markdown is written plainly). Cells keep their ids, and so their outputs and the
`# %% ../nbs/x.ipynb <id>` anchors in the exported modules; a header without `id=` makes a new cell.
"""
import re, sys, uuid
from pathlib import Path
import nbformat

HDR = re.compile(r'^# %% \[(code|markdown|raw)\](.*)$')

def dump(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    out = []
    for c in nb.cells:
        tags = c.metadata.get('tags', [])
        out.append(f"# %% [{c.cell_type}] id={c.get('id', '')}" + (f" tags={','.join(tags)}" if tags else ''))
        out.append(c.source)
    return '\n'.join(out) + '\n'

def parse(text):
    cells, cur = [], None
    for line in text.splitlines():
        m = HDR.match(line)
        if m:
            cur = dict(type=m[1], attrs=dict(kv.split('=', 1) for kv in m[2].split() if '=' in kv), lines=[])
            cells.append(cur)
        elif cur is not None: cur['lines'].append(line)
    return cells

def load(txt_path, nb_path):
    nb_path = Path(nb_path)
    old = nbformat.read(nb_path, as_version=4) if nb_path.exists() else None
    olds = {c.get('id'): c for c in old.cells} if old else {}
    new_cells = []
    for c in parse(Path(txt_path).read_text()):
        src = '\n'.join(c['lines']).strip('\n')
        cid = c['attrs'].get('id') or uuid.uuid4().hex[:8]
        prev = olds.get(cid)
        mk = dict(code=nbformat.v4.new_code_cell, markdown=nbformat.v4.new_markdown_cell, raw=nbformat.v4.new_raw_cell)[c['type']]
        cell = mk(src)
        cell['id'] = cid
        if prev is not None and prev.cell_type == c['type'] == 'code' and prev.source == src:
            cell.outputs = prev.get('outputs', [])
        tags = [t for t in c['attrs'].get('tags', '').split(',') if t]
        if tags: cell.metadata['tags'] = tags
        new_cells.append(cell)
    nb = old or nbformat.v4.new_notebook()
    nb.cells = new_cells
    nb.metadata.setdefault('kernelspec', dict(display_name='python3', language='python', name='python3'))
    nbformat.write(nb, nb_path)

if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    if cmd == 'dump': sys.stdout.write(dump(args[0]))
    elif cmd == 'load': load(*args)
    else: sys.exit(__doc__)

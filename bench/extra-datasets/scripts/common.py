import json, random, re, collections, hashlib, os

# Where the downloaded packages are unpacked, and where the datasets are written.
SRC = os.environ.get('EXTRA_SRC', '/tmp/extra-src')
OUT = os.environ.get('EXTRA_OUT', '/tmp/extra-datasets')

def collapse(s):
    return re.sub(r'\s+', ' ', s).strip()

def dedup(rows):
    """rows: list of (text,label). Keep first occurrence of each exact text."""
    seen, out, dropped_same, dropped_conflict = set(), [], 0, 0
    first_label = {}
    for t, l in rows:
        if t in seen:
            if first_label[t] == l: dropped_same += 1
            else: dropped_conflict += 1
            continue
        seen.add(t); first_label[t] = l; out.append((t, l))
    return out, dropped_same, dropped_conflict

def split_stratified(rows, seed=42, test_frac=0.2):
    """Per label (sorted), shuffle that label's rows (in input order) with one
    random.Random(seed) and put round(test_frac*n) of them in test; each output
    keeps input order."""
    rng = random.Random(seed)
    by = collections.defaultdict(list)
    for i, (t, l) in enumerate(rows): by[l].append(i)
    test_idx = set()
    for l in sorted(by):
        idx = by[l][:]; rng.shuffle(idx)
        test_idx.update(idx[:round(test_frac * len(idx))])
    train = [r for i, r in enumerate(rows) if i not in test_idx]
    test = [r for i, r in enumerate(rows) if i in test_idx]
    return train, test

def write(outdir, train, test):
    os.makedirs(outdir, exist_ok=True)
    info = {}
    for name, rows in (('train', train), ('test', test)):
        p = os.path.join(outdir, name + '.jsonl')
        with open(p, 'w', encoding='utf-8') as f:
            for t, l in rows:
                assert t and l
                f.write(json.dumps({'text': t, 'label': l}, ensure_ascii=False) + '\n')
        b = open(p, 'rb').read()
        info[name] = (len(b), hashlib.sha256(b).hexdigest(), collections.Counter(l for _, l in rows), len(rows))
    assert not set(t for t, _ in train) & set(t for t, _ in test)
    return info

def stats_md(info):
    s = '## Output files\n\n'
    for n in ('train', 'test'):
        s += f'- `{n}.jsonl`: {info[n][0]} bytes, {info[n][3]} rows, sha256 `{info[n][1]}`\n'
    s += '\nEach line is a JSON object `{"text": ..., "label": ...}` (UTF-8, `ensure_ascii=False`).\n\n'
    s += '## Counts per label (computed on the written files)\n\n| label | train | test |\n|---|---|---|\n'
    labels = sorted(set(info['train'][2]) | set(info['test'][2]))
    for l in labels:
        s += f'| {l} | {info["train"][2][l]} | {info["test"][2][l]} |\n'
    s += f'| **total** | {info["train"][3]} | {info["test"][3]} |\n\n'
    s += 'No text appears twice within or across the two files.\n'
    return s

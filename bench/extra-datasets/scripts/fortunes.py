import os, sys, json, collections
sys.path.insert(0, os.path.dirname(__file__))
from common import *
from fortune_read import *

per = {}
for c in cats():
    ents = [e for e in read_cat(c) if e]
    per[c] = {'nonempty': len(ents), 'kept': [e for e in ents if len(e) <= 1000]}
elig = [c for c in per if len(per[c]['kept']) >= 150]
top = sorted(elig, key=lambda c: (-len(per[c]['kept']), c))[:8]
print('eligible', len(elig), sorted(elig)); print('top8', top)
rows = []
for c in sorted(top):
    rows += [(e, c) for e in per[c]['kept']]
rows, ds, dc = dedup(rows)
print('dedup same', ds, 'conflict', dc, 'left', len(rows))
train, test = split_stratified(rows, 42)
info = write(os.path.join(OUT, 'fortunes'), train, test)
tab = '| file | non-empty entries | <=1000 chars | eligible (>=150) | used |\n|---|---|---|---|---|\n'
for c in sorted(per):
    tab += f"| {c} | {per[c]['nonempty']} | {len(per[c]['kept'])} | {'yes' if c in elig else 'no'} | {'**yes**' if c in top else ''} |\n"
open(os.path.join(SRC, 'fortunes_table.md'), 'w').write(tab)
open(os.path.join(SRC, 'fortunes_stats.md'), 'w').write(stats_md(info))
json.dump({'dedup_same': ds, 'dedup_conflict': dc, 'top': top}, open(os.path.join(SRC, 'fortunes_stats.json'), 'w'))
print(stats_md(info))

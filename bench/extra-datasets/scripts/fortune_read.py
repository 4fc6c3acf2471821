import os, re
from common import SRC
D = os.path.join(SRC, 'fortunes-x/usr/share/games/fortunes')
def clean(e):
    while True:
        e2 = re.sub(r'[^\b]\x08', '', e)   # nroff overstrike: drop char+backspace
        if e2 == e: break
        e = e2
    e = e.replace('\x08', '')
    e = re.sub(r'[\x00-\x08\x0b\x0e-\x1f\x7f]', '', e)   # leftover control chars (BEL jokes)
    return re.sub(r'\s+', ' ', e).strip()
def read_cat(name):
    raw = open(os.path.join(D, name), encoding='utf-8').read()
    ents = re.split(r'(?m)^%[ \t]*\n', raw if raw.endswith('\n') else raw + '\n')
    return [clean(e) for e in ents]
def cats():
    return sorted(f for f in os.listdir(D) if not f.endswith('.dat') and not os.path.islink(os.path.join(D, f)))

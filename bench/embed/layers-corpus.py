#!/usr/bin/env python3
"""Real-text sentences for the layer-dropped student's benchmark (bench/embed/run.sh layers-real).

  python3 bench/embed/layers-corpus.py OUT_DIR     -> OUT_DIR/train.txt, val.txt (1,000), eval.txt (1,000)

Sources, all installed from Debian packages (none written by this project): the GNU/Debian info manuals under
/usr/share/info (coreutils, bash, gettext, jargon, debian-policy, ...), the Debian Administrator's Handbook
(debian-handbook, en-US HTML), the Debian Reference (debian-reference-en) and the Perl documentation (perl-doc, POD).
Paragraphs are split into sentences (abbreviations kept together), filtered (40-300 characters, starts upper-case,
ends with . ! ?, mostly letters, no code or cross-references), de-duplicated case-insensitively over all sources.
Training, validation and evaluation sentences come from different source files (a whole manual, chapter or POD
page goes to one side), so no document is split between them.
"""
import gzip, re, glob, os, random, sys, hashlib
OUT = sys.argv[1] if len(sys.argv) > 1 else '.'
os.makedirs(OUT, exist_ok=True)
EVAL = {'wget', 'sed', 'gzip', 'time', 'ed', 'bzip2', 'libtasn1'}
VAL = {'grep', 'bc', 'autosprintf', 'rluserman'}
def base(p):
    b = os.path.basename(p)[:-3]
    b = re.sub(r'\.info(-\d+)?$', '', b)
    return b
def paragraphs(text):
    text = text.replace('\x1f', '\n\n')
    for para in re.split(r'\n\s*\n', text):
        lines = para.split('\n')
        # skip code-ish paragraphs: indented heavily or menu lines
        if sum(1 for l in lines if l.startswith('     ') or l.startswith('* ')) > len(lines) / 2: continue
        yield ' '.join(l.strip() for l in lines)
SPLIT = re.compile(r'(?<=[.!?])["\')]?\s+(?=[A-Z"(])')
ABBR = re.compile(r'(\be\.g|\bi\.e|\betc|\bvs|\bMr|\bDr|\bcf|\bNo|\bFig)\.$')
def sentences(p):
    parts = SPLIT.split(p)
    cur = ''
    for s in parts:
        cur = (cur + ' ' + s).strip() if cur else s
        if ABBR.search(cur): continue
        yield cur; cur = ''
    if cur: yield cur
def ok(s):
    if not (40 <= len(s) <= 300): return False
    if not s[0].isupper() or s[-1] not in '.!?': return False
    letters = sum(c.isalpha() or c == ' ' for c in s)
    if letters < 0.85 * len(s): return False
    if len(s.split()) < 6: return False
    if re.search(r'\*[Nn]ote|::|-->|\$ |`|\bFile:', s): return False
    return True
# The manuals are listed, not globbed, so the corpus does not change when other documentation gets installed.
# Packages: apt-get install -y bash-doc bc bzip2-doc coreutils debian-policy developers-reference diffutils ed
#   findutils gettext gettext-doc gnu-standards gnupg grep gzip info jargon libffi-dev libgpg-error-dev libtasn1-doc
#   nettle-dev readline-common sed time wget debian-handbook debian-reference-en perl-doc
MANUALS = ['autosprintf', 'bash', 'bc', 'bzip2', 'coreutils', 'debian-policy', 'developers-reference', 'diffutils',
           'ed', 'find', 'find-maint', 'gettext', 'gnupg', 'gpgrt', 'grep', 'gzip', 'info-stnd', 'jargon', 'libffi',
           'libtasn1', 'maintain', 'nettle', 'rluserman', 'sed', 'standards', 'time', 'wget']
missing = [m for m in MANUALS if not glob.glob(f'/usr/share/info/{m}.info*.gz')]
if missing or not glob.glob('/usr/share/doc/debian-handbook/html/en-US/*.html') or not glob.glob('/usr/share/perl/5.36.0/pod/*.pod'):
    sys.exit(f'missing documentation ({missing or "handbook/perl-doc"}): install the packages listed in {__file__}')
buckets = {'train': [], 'val': [], 'eval': []}
seen = set()
for f in sorted(glob.glob('/usr/share/info/*.info*.gz')):
    b = base(f)
    if b not in MANUALS: continue
    which = 'eval' if b in EVAL else 'val' if b in VAL else 'train'
    text = gzip.open(f, 'rt', errors='replace').read()
    for p in paragraphs(text):
        for s in sentences(re.sub(r'\s+', ' ', p)):
            s = s.strip()
            if ok(s) and s.lower() not in seen:
                seen.add(s.lower()); buckets[which].append(s)
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.paras = []; self.cur = None; self.skip = 0
    def handle_starttag(self, tag, a):
        if tag in ('pre', 'code', 'script', 'style', 'tt'): self.skip += 1
        if tag == 'p': self.cur = []
    def handle_endtag(self, tag):
        if tag in ('pre', 'code', 'script', 'style', 'tt'): self.skip = max(0, self.skip - 1)
        if tag == 'p' and self.cur is not None: self.paras.append(''.join(self.cur)); self.cur = None
    def handle_data(self, d):
        if self.cur is not None: self.cur.append(d if not self.skip else ' CODE ')
def add(which, paras):
    for p in paras:
        for s in sentences(re.sub(r'\s+', ' ', p)):
            s = s.strip()
            if ok(s) and 'CODE' not in s and s.lower() not in seen:
                seen.add(s.lower()); buckets[which].append(s)
# Debian handbook (English), Debian reference: HTML paragraphs; eval/val by chapter file
hb = sorted(glob.glob('/usr/share/doc/debian-handbook/html/en-US/*.html')) + sorted(glob.glob('/usr/share/debian-reference/*.en.html'))
for i, f in enumerate(hb):
    h = int(hashlib.sha1(os.path.basename(f).encode()).hexdigest(), 16) % 20
    which = 'eval' if h == 0 else 'val' if h == 1 else 'train'
    p = P(); p.feed(open(f, errors='replace').read()); add(which, p.paras)
# Perl documentation (POD): plain paragraphs, not verbatim (indented) ones or commands
for f in sorted(glob.glob('/usr/share/perl/5.36.0/pod/*.pod')):
    h = int(hashlib.sha1(os.path.basename(f).encode()).hexdigest(), 16) % 20
    which = 'eval' if h == 0 else 'val' if h == 1 else 'train'
    paras = [p for p in re.split(r'\n\s*\n', open(f, errors='replace').read()) if p and not p[0].isspace() and not p.startswith('=')]
    paras = [re.sub(r'[A-Z]<+([^<>]*)>+', r'\1', p) for p in paras]
    add(which, paras)
rnd = random.Random(42)
for k, v in buckets.items():
    rnd.shuffle(v)
    print(k, len(v), file=sys.stderr)
open(f'{OUT}/train.txt', 'w').write('\n'.join(buckets['train']) + '\n')
open(f'{OUT}/val.txt', 'w').write('\n'.join(buckets['val'][:1000]) + '\n')
open(f'{OUT}/eval.txt', 'w').write('\n'.join(buckets['eval'][:1000]) + '\n')

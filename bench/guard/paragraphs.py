"""One prose paragraph per line from raw documentation text (the cleanup of corpus.sh and corpus-test.sh).

    paragraphs.py RAW OUT [EXCLUDE...]

EXCLUDE: earlier corpora (one paragraph per line) whose paragraphs are left out, so a held-out corpus shares no
paragraph with any of them. The rules are described in corpus.sh.
"""
import re, sys, unicodedata
src, out = sys.argv[1], sys.argv[2]
paras, cur = [], []
def flush():
    if cur:
        paras.append(" ".join(cur)); cur.clear()
markup = re.compile(r"^\s*([-=*_~#+|]{3,}|\*|[-*•]\s|\d+(\.\d+)*\s*$|File: |Node: |Next: |Prev: |Up: )")
with open(src, encoding="utf-8", errors="replace") as f:
    for line in f:
        s = line.strip()
        if not s or markup.match(s) or "\f" in line:
            flush(); continue
        if line.startswith((" " * 12, "\t\t")) and not cur:   # deeply indented: code or tables
            continue
        cur.append(s)
flush()
end = re.compile(r"[.!?:][\"')\]]?$")
seen, kept, words, chars = set(), [], 0, 0
excluded = overlap = 0
for path in sys.argv[3:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            seen.add(re.sub(r"[^a-z]+", " ", line.strip().lower()).strip())
other = set(seen)                                              # the EXCLUDE corpora's paragraphs
for p in paras:
    p = unicodedata.normalize("NFC", re.sub(r"\s+", " ", p)).strip()
    p = re.sub(r"(\w)- (\w)", r"\1\2", p)                      # hyphenation across joined lines
    w = p.split(" ")
    if len(w) < 12 or not end.search(p):
        continue
    if sum(x.strip(".,;:!?\"'()").isalpha() for x in w) < 0.6 * len(w):
        continue
    if sum(c.isalpha() or c == " " for c in p) < 0.8 * len(p):
        continue
    key = re.sub(r"[^a-z]+", " ", p.lower()).strip()
    if key in seen:
        excluded += 1
        overlap += key in other
        continue
    seen.add(key)
    kept.append(p); words += len(w); chars += len(p)
tmp = out + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    f.write("\n".join(kept) + "\n")
import os; os.replace(tmp, out)
print(f"{out}: {len(kept)} paragraphs, {words} words, {chars} characters "
      f"({len(paras)} candidate paragraphs before cleanup and de-duplication; {excluded} duplicates or excluded"
      + (f", {overlap} of them in the {len(sys.argv) - 3} EXCLUDE corpora" if sys.argv[3:] else "") + ")")

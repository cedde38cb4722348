#!/usr/bin/env bash
# The blind text of the traffic benchmark's `blind` split (traffic.sh blind, session 10): documentation that none of
# corpus.sh (baseline, dev, eval), corpus-test.sh (test) and corpus-holdout.sh (holdout) uses, so its users and
# campaigns ask about text that no earlier split, and not the baseline, contains.
#
#   bench/guard/corpus-blind.sh [OUT] [EXCLUDE...]   default OUT: bench/out/guard/corpus-blind.txt,
#                                                     EXCLUDE: corpus.txt, corpus-test.txt, corpus-holdout.txt beside it
#
# Sources (Debian main, apt-get), subjects the earlier corpora do not cover: the PostgreSQL 15 manual (HTML), the
# SQLite documentation (HTML), the Exim 4 specification (HTML), Postfix's README documents (HTML) and the nginx
# documentation shipped with nginx-doc. The cleanup is corpus.sh's (paragraphs.py): prose paragraphs only, one per
# line, exact duplicates and every paragraph of the EXCLUDE corpora removed. The packages and versions go to
# OUT.sources.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/bench/out/guard/corpus-blind.txt}"
shift || true
EXCLUDE=("$@")
((${#EXCLUDE[@]})) || EXCLUDE=("$(dirname "$OUT")/corpus.txt" "$(dirname "$OUT")/corpus-test.txt"
                               "$(dirname "$OUT")/corpus-holdout.txt")
mkdir -p "$(dirname "$OUT")"
source "$(dirname "$0")/../docs.sh"
require_corpora "${EXCLUDE[@]}"
PKGS=(postgresql-doc-15 sqlite3-doc exim4-doc-html postfix-doc nginx-doc)

install_doc_packages /usr/share/doc/postgresql-doc-15/html:/usr/share/doc/sqlite3-doc:/usr/share/doc/exim4-doc-html \
  "${PKGS[@]}"
dpkg-query -W "${PKGS[@]}" > "$OUT.sources"

RAW="$(mktemp -d)"; trap 'rm -rf "$RAW"' EXIT
{
  find /usr/share/doc/postgresql-doc-15/html /usr/share/doc/sqlite3-doc /usr/share/doc/exim4-doc-html \
       /usr/share/doc/postfix-doc /usr/share/doc/postfix /usr/share/doc/nginx-doc \
       \( -name '*.html' -o -name '*.html.gz' \) 2>/dev/null | LC_ALL=C sort \
    | while read -r f; do zcat -f "$f" | html_text; echo; done
} > "$RAW/all.txt"

/usr/bin/python3 "$ROOT/bench/guard/paragraphs.py" "$RAW/all.txt" "$OUT" "${EXCLUDE[@]}"

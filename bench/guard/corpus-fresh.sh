#!/usr/bin/env bash
# The text of the traffic benchmark's `fresh` split (traffic.sh fresh, session 13): documentation that none of
# corpus.sh (baseline, dev, eval), corpus-test.sh (test), corpus-holdout.sh (holdout) and corpus-blind.sh (blind)
# uses, so its users and campaigns ask about text that no earlier split, and not the baseline, contains. Written by a
# helper session that had not read the scanner, before any scan of the split.
#
#   bench/guard/corpus-fresh.sh [OUT] [EXCLUDE...]   default OUT: bench/out/guard/corpus-fresh.txt, EXCLUDE:
#                                                     corpus.txt, corpus-test.txt, corpus-holdout.txt and
#                                                     corpus-blind.txt beside it
#
# Sources (Debian main, apt-get), subjects the earlier corpora do not cover: the Django 3.2 documentation (topics,
# reference, how-tos, tutorial, FAQ; HTML; not its release notes), the BIND 9 Administrator Reference Manual (HTML),
# Vim's help files (plain text from vim-runtime, without the version-history and to-do files, which are lists of
# changes; help links |tag| read as their names, tag anchors *tag* dropped) and two books of the Linux 6.1 kernel
# documentation, the admin guide and the development-process guide (HTML). The cleanup is corpus.sh's
# (paragraphs.py): prose paragraphs only, one per line, exact duplicates and every paragraph of the EXCLUDE corpora
# (compared by normalised text: lower case, non-letters collapsed) removed; it prints how many were in the EXCLUDE
# corpora. The packages and versions go to OUT.sources.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/bench/out/guard/corpus-fresh.txt}"
shift || true
EXCLUDE=("$@")
((${#EXCLUDE[@]})) || EXCLUDE=("$(dirname "$OUT")/corpus.txt" "$(dirname "$OUT")/corpus-test.txt"
                               "$(dirname "$OUT")/corpus-holdout.txt" "$(dirname "$OUT")/corpus-blind.txt")
mkdir -p "$(dirname "$OUT")"
source "$(dirname "$0")/../docs.sh"
require_corpora "${EXCLUDE[@]}"
PKGS=(python-django-doc bind9-doc vim-runtime linux-doc-6.1)
DJANGO=/usr/share/doc/python-django-doc/html
BIND=/usr/share/doc/bind9-doc/arm
KERNEL=/usr/share/doc/linux-doc-6.1/html

install_doc_packages "$DJANGO:$BIND:$KERNEL/admin-guide" "${PKGS[@]}"
dpkg-query -W "${PKGS[@]}" > "$OUT.sources"

RAW="$(mktemp -d)"; trap 'rm -rf "$RAW"' EXIT
{
  # Sphinx pages; its generated indexes, search page, module sources (_modules) and page sources (_sources) left out,
  # and Django's release notes (a page per release, mostly lists of fixes)
  { find "$DJANGO" "$KERNEL/admin-guide" "$KERNEL/process" -name '*.html' -not -path '*/_*' -not -path '*/releases/*'
    find "$BIND" \( -name '*.html' -o -name '*.html.gz' \) -not -name 'changelog.html*'
  } | grep -v -E '/(genindex|search|py-modindex)\.html$' | LC_ALL=C sort \
    | while read -r f; do zcat -f "$f" | html_text; echo; done
  for f in /usr/share/vim/vim*/doc/*.txt*; do
    case "$f" in */todo.txt*|*/version[0-9]*.txt*) continue ;; esac
    zcat -f "$f" | perl -pe 's/\|([^|\s]+)\|/$1/g; s/(^|\s)\*[^*\s]+\*(?=\s|$)/$1/g'
    echo; done
} > "$RAW/all.txt"

/usr/bin/python3 "$ROOT/bench/guard/paragraphs.py" "$RAW/all.txt" "$OUT" "${EXCLUDE[@]}"

#!/usr/bin/env bash
# The held-out text of the traffic benchmark's `test` split (traffic.sh test): documentation that corpus.sh does
# not use, so its users and campaigns ask about text that neither the baseline nor the dev and eval splits contain.
#
#   bench/guard/corpus-test.sh [OUT] [EXCLUDE]   default OUT: bench/out/guard/corpus-test.txt,
#                                                EXCLUDE: corpus.sh's output beside it (its paragraphs are left out)
#
# Sources (Debian main, apt-get): the Python 3.11 documentation (tutorial, library and language reference, HOWTOs;
# info), the Git documentation (user manual, tutorials, command pages; HTML) and the GnuPG, Wget, diffutils, grep,
# sed, gzip and bc manuals (info). The cleanup is corpus.sh's (paragraphs.py): prose paragraphs only, one per line,
# exact duplicates and every paragraph of EXCLUDE removed. The packages and versions go to OUT.sources.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/bench/out/guard/corpus-test.txt}"
EXCLUDE="${2:-$(dirname "$OUT")/corpus.txt}"
mkdir -p "$(dirname "$OUT")"
source "$(dirname "$0")/../docs.sh"
require_corpora "$EXCLUDE"
PKGS=(python3-doc python3.11-doc git-doc gnupg wget diffutils grep sed gzip bc info)

install_doc_packages /usr/share/info/python3.11.info.gz:/usr/share/doc/git-doc "${PKGS[@]}"
dpkg-query -W "${PKGS[@]}" > "$OUT.sources"

RAW="$(mktemp -d)"; trap 'rm -rf "$RAW"' EXIT
{
  for f in /usr/share/info/python3.11.info* /usr/share/info/gnupg.info* /usr/share/info/wget.info* \
           /usr/share/info/diffutils.info* /usr/share/info/grep.info* /usr/share/info/sed.info* \
           /usr/share/info/gzip.info* /usr/share/info/bc.info*; do
    # info cross references: "*note dict: 16e." and "*note Logging HOWTO::" read as their names
    [[ -f $f ]] && zcat -f "$f" | tr -d '\037\177' \
      | perl -0777 -pe 's/\*[Nn]ote\s+([^:]+?)::\s?/$1 /g; s/\*[Nn]ote\s+([^:]+?):\s+[^\s.,;]+[.,;]?/$1/g'
    echo; done
  find /usr/share/doc/git-doc -maxdepth 1 -name '*.html' | LC_ALL=C sort | while read -r f; do
    html_text < "$f"; echo; done
} > "$RAW/all.txt"

/usr/bin/python3 "$ROOT/bench/guard/paragraphs.py" "$RAW/all.txt" "$OUT" "$EXCLUDE"

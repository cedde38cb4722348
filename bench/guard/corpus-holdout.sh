#!/usr/bin/env bash
# The held-out text of the traffic benchmark's `holdout` split (traffic.sh holdout, session 9): documentation that
# neither corpus.sh (baseline, dev, eval) nor corpus-test.sh (test) uses, so its users and campaigns ask about text
# that no earlier split, and not the baseline, contains.
#
#   bench/guard/corpus-holdout.sh [OUT] [EXCLUDE...]   default OUT: bench/out/guard/corpus-holdout.txt,
#                                                       EXCLUDE: corpus.txt and corpus-test.txt beside it
#
# Sources (Debian main, apt-get), other subjects than the earlier corpora's: the build tools' manuals (Autoconf,
# Automake, GNU M4, Libtool; info; Flex, HTML), the Z shell and GNU Screen manuals (info), the R manuals (An
# Introduction to R, the language definition, data import/export, installation and administration, writing
# extensions, internals, FAQ; info) and the Apache HTTP Server 2.4 documentation (its English HTML pages). The cleanup is
# corpus.sh's (paragraphs.py): prose paragraphs only, one per line, exact duplicates and every paragraph of the
# EXCLUDE corpora removed. The packages and versions go to OUT.sources.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/bench/out/guard/corpus-holdout.txt}"
shift || true
EXCLUDE=("$@")
((${#EXCLUDE[@]})) || EXCLUDE=("$(dirname "$OUT")/corpus.txt" "$(dirname "$OUT")/corpus-test.txt")
mkdir -p "$(dirname "$OUT")"
source "$(dirname "$0")/../docs.sh"
require_corpora "${EXCLUDE[@]}"
PKGS=(autoconf-doc automake m4-doc libtool-doc flex-doc zsh-doc screen r-doc-info apache2-doc info)

install_doc_packages /usr/share/info/autoconf.info.gz:/usr/share/info/R-intro.info.gz:/usr/share/doc/apache2-doc/manual/en \
  "${PKGS[@]}"
dpkg-query -W "${PKGS[@]}" > "$OUT.sources"

RAW="$(mktemp -d)"; trap 'rm -rf "$RAW"' EXIT
{
  for f in /usr/share/info/autoconf.info* /usr/share/info/automake-1.*.info* /usr/share/info/m4.info* \
           /usr/share/info/libtool.info* /usr/share/info/zsh.info* /usr/share/info/screen.info* \
           /usr/share/info/R-*.info*; do
    # info cross references: "*note Macros::" and "*note Quoting: Quoting Rules." read as their names
    [[ -f $f ]] && zcat -f "$f" | tr -d '\037\177' \
      | perl -0777 -pe 's/\*[Nn]ote\s+([^:]+?)::\s?/$1 /g; s/\*[Nn]ote\s+([^:]+?):\s+[^\s.,;]+[.,;]?/$1/g'
    echo; done
  # Apache's en/ folder holds six pages in Brazilian Portuguese (<html lang="pt-br">): English pages only
  find /usr/share/doc/flex-doc/html /usr/share/doc/apache2-doc/manual/en -name '*.html' | LC_ALL=C sort \
    | while read -r f; do grep -qi '<html lang="pt' "$f" || { html_text < "$f"; echo; }; done
} > "$RAW/all.txt"

/usr/bin/python3 "$ROOT/bench/guard/paragraphs.py" "$RAW/all.txt" "$OUT" "${EXCLUDE[@]}"

#!/usr/bin/env bash
# The human (unwatermarked) English text of the guard benchmarks: installs Debian documentation packages and
# extracts their prose into one paragraph per line, cleaned and de-duplicated.
#
#   bench/guard/corpus.sh [OUT]          default OUT: bench/out/guard/corpus.txt
#
# Sources (all Debian main, installed with apt-get): the Debian Policy Manual, Developer's Reference, Debian
# Reference and Debian Administrator's Handbook (text/HTML), the GNU Coding Standards, Bash and gettext manuals
# (info), the Jargon File, the Perl documentation (POD rendered by perldoc) and the Linux man pages (sections 1-8,
# rendered by man). Only prose survives the cleanup:
#   - wrapped lines are joined into paragraphs (a blank line or markup ends one), whitespace is collapsed;
#   - a paragraph is kept when it has >= 12 words, >= 60 % of its words purely alphabetic, letters + spaces
#     >= 80 % of its characters, and ends like a sentence (. ! ? : or a closing quote/parenthesis after one);
#     that drops code, tables, option lists, headers and copyright boilerplate;
#   - exact duplicates (after lower-casing and collapsing non-letters) are kept once: man pages and manuals repeat
#     licence text and "see also" paragraphs, and a repeated paragraph would be repeated (window, token) tuples.
# Prints the paragraph, word and character counts; the packages and their versions go to OUT.sources.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/bench/out/guard/corpus.txt}"
mkdir -p "$(dirname "$OUT")"
PKGS=(debian-policy developers-reference debian-reference-en debian-handbook gnu-standards bash-doc gettext-doc
      jargon perl-doc manpages manpages-dev man-db groff-base info)

source "$(dirname "$0")/../docs.sh"
# debian-policy's text, as an uncompressed directory or compressed
[[ -e /usr/share/doc/debian-policy/policy.txt.gz ]] && probe=/usr/share/doc/debian-policy/policy.txt.gz \
  || probe=/usr/share/doc/debian-policy/policy.txt
install_doc_packages "$probe" "${PKGS[@]}"
dpkg-query -W "${PKGS[@]}" > "$OUT.sources"

RAW="$(mktemp -d)"; trap 'rm -rf "$RAW"' EXIT
cat_any() { case "$1" in *.gz) zcat -f "$1" ;; *) cat "$1" ;; esac; }
files() { find -L "$@" -type f 2>/dev/null | LC_ALL=C sort || true; }
{
  for f in /usr/share/doc/debian-policy/*.txt.gz /usr/share/doc/debian-policy/fhs/*.txt.gz; do
    [[ -f $f ]] && cat_any "$f"; echo; done
  files /usr/share/doc/developers-reference/docs /usr/share/doc/debian-reference-en/docs \
        /usr/share/doc/debian-handbook/html/en-US | grep -E '(\.en)?\.html$' | grep -v '/_' \
    | while read -r f; do html_text < "$f"; echo; done || true
  for f in /usr/share/info/standards.info* /usr/share/info/bash.info* /usr/share/info/gettext.info* \
           /usr/share/info/coreutils.info* /usr/share/info/find.info*; do
    [[ -f $f ]] && cat_any "$f" | tr -d '\037\177'; echo; done
  [[ -f /usr/share/doc/jargon/jargon.html ]] && html_text < /usr/share/doc/jargon/jargon.html
  files /usr/share/perl/5.*/pod | grep '\.pod$' | while read -r f; do
    perldoc -T -otext -F "$f" 2>/dev/null || true; echo; done || true
  files /usr/share/man/man1 /usr/share/man/man5 /usr/share/man/man7 /usr/share/man/man8 \
        | grep "\.gz$" | head -n "${MAN_PAGES:-800}" | while read -r f; do
    MANWIDTH=100 man -l "$f" 2>/dev/null | col -bx || true; echo; done || true
} > "$RAW/all.txt"

/usr/bin/python3 "$ROOT/bench/guard/paragraphs.py" "$RAW/all.txt" "$OUT"

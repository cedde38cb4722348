#!/usr/bin/env bash
# The real-English corpus of the embedding students: installs Debian documentation packages (offline-capable once
# installed) and renders every document to plain text, one file per source document, under DIR/docs/. The Java
# side (dev.distill4j.embed.RealCorpus, `distill embed corpus`) then splits sentences, filters, de-duplicates and
# splits train/eval by document; this script runs it at the end and prints its report.
#
#   bench/embed/corpus.sh [DIR]     default DIR: $DISTILL4J_EMBED_CORPUS, else ${XDG_CACHE_HOME:-~/.cache}/distill4j/embed-corpus
#
# Sources (all Debian main): the Debian Policy Manual, Developer's Reference, Debian Reference, Debian
# Administrator's Handbook and Debian FAQ (text/HTML), the Python 3.11 and PostgreSQL 15 manuals (HTML), the GNU
# manuals installed as info (coding standards, Bash, gettext, coreutils, grep, sed, find, diff, gzip, ...), the
# Jargon File and the Perl documentation (POD rendered by perldoc). With MAN_PAGES=N also the first N man pages of
# those packages (rendered by man; off by default: slow to render, and the corpus has 149,454 training sentences
# without them). About 5 minutes on two idle cores, most of it starting python3 and perldoc once per document.
# Nothing here was written by the project. Needs root only when a package is missing (apt-get install).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${1:-${DISTILL4J_EMBED_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/distill4j/embed-corpus}}"
PKGS=(debian-policy developers-reference debian-reference-en debian-handbook debian-faq gnu-standards bash-doc
      gettext-doc jargon perl-doc manpages manpages-dev man-db groff-base info coreutils grep sed findutils diffutils
      gzip python3.11-doc postgresql-doc-15)

source "$(dirname "$0")/../docs.sh"
install_doc_packages /usr/share/doc/debian-reference-en/docs "${PKGS[@]}"

TMP="$DIR/docs.tmp"; rm -rf "$TMP"; mkdir -p "$TMP"
dpkg-query -W "${PKGS[@]}" > "$TMP/SOURCES"
cat_any() { case "$1" in *.gz) zcat -f "$1" ;; *) cat "$1" ;; esac; }
page_text() {   # as docs.sh's html_text, stricter: code blocks, tables and menus go
  /usr/bin/python3 -c '
import html, re, sys
t = sys.stdin.read()
t = re.sub(r"(?is)<(script|style|pre|head|nav|table)\b.*?</\1>", "\n\n", t)
t = re.sub(r"(?i)</?(p|div|h[1-6]|li|ul|ol|dl|dt|dd|br|tr|section|blockquote|title)\b[^>]*>", "\n\n", t)
t = re.sub(r"<[^>]+>", "", t)
# HTML indents its source: indentation means nothing here, and would read as code to the sentence splitter
sys.stdout.write("\n".join(l.strip() for l in html.unescape(t).splitlines()))'
}
files() { find -L "$@" -type f 2>/dev/null | LC_ALL=C sort || true; }
doc() { mkdir -p "$TMP/$1"; echo "$TMP/$1/$2.txt"; }   # doc SOURCE NAME -> the file to write

for f in /usr/share/doc/debian-policy/*.txt.gz /usr/share/doc/debian-policy/fhs/*.txt.gz; do
  if [[ -f $f ]]; then cat_any "$f" > "$(doc debian-policy "$(basename "$f" .txt.gz)")"; fi; done
for src in developers-reference:/usr/share/doc/developers-reference/docs \
           debian-reference-en:/usr/share/doc/debian-reference-en/docs \
           debian-handbook:/usr/share/doc/debian-handbook/html/en-US debian-faq:/usr/share/doc/debian/FAQ \
           python3-doc:/usr/share/doc/python3.11/html postgresql-doc:/usr/share/doc/postgresql-doc-15/html; do
  name="${src%%:*}"; path="${src#*:}"
  # one language: foo.en.html where it exists, else foo.html
  files "$path" | grep -E '\.html$' | grep -v '/_' | while read -r f; do
    case "$f" in *.en.html) ;; *) [[ -f "${f%.html}.en.html" ]] && continue ;; esac
    rel="${f#"$path"/}"; page_text < "$f" > "$(doc "$name" "$(echo "${rel%.html}" | tr '/' '_')")"
  done || true
done
for f in /usr/share/info/*.info.gz /usr/share/info/*.info; do   # a manual's parts (foo.info-2.gz) join it
  [[ -f $f ]] || continue
  base="$(basename "$f")"; base="${base%.gz}"; base="${base%.info}"
  for part in "$f" "${f%.info*}".info-*; do if [[ -f $part ]]; then cat_any "$part"; fi; done | tr -d '\037\177' \
    > "$(doc info "$base")"
done
if [[ -f /usr/share/doc/jargon/jargon.html ]]; then page_text < /usr/share/doc/jargon/jargon.html > "$(doc jargon jargon)"; fi
# a document that fails to render is left out, and said: a silent gap made one cached corpus lack perlapi
FAILED="$DIR/render-failures.txt"; : > "$FAILED"
files /usr/share/perl/5.*/pod | grep '\.pod$' | while read -r f; do
  out="$(doc perl-doc "$(basename "$f" .pod)")"
  if ! perldoc -T -otext -F "$f" 2>/dev/null > "$out" || [[ ! -s $out ]]; then echo "perl-doc $f" >> "$FAILED"; fi
done || true
# the man pages of the packages above (not whatever else is installed here), sections 1-8
[[ "${MAN_PAGES:-0}" -gt 0 ]] && dpkg -L "${PKGS[@]}" 2>/dev/null | grep -E '^/usr/share/man/man[1-8]/[^/]+\.gz$' | LC_ALL=C sort -u \
  | head -n "${MAN_PAGES:-0}" | while read -r f; do
  [[ -f $f ]] || continue
  out="$(doc man "$(basename "$f" .gz)")"
  if ! MANWIDTH=100 man -l "$f" 2>/dev/null | col -bx > "$out" || [[ ! -s $out ]]; then echo "man $f" >> "$FAILED"; fi
done || true
if [[ -s $FAILED ]]; then
  echo "warning: $(wc -l < "$FAILED") documents failed to render and are left out (list: $FAILED):" >&2
  head -5 "$FAILED" | sed 's/^/  /' >&2
fi
find "$TMP" -type f -empty -delete
rm -rf "$DIR/docs"; mv "$TMP" "$DIR/docs"
echo "$(find "$DIR/docs" -type f -name '*.txt' | wc -l) documents, $(du -sh "$DIR/docs" | cut -f1) of text in $DIR/docs" >&2

cd "$ROOT"
./distill embed corpus --dir "$DIR" --rebuild

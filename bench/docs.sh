# Debian documentation as text — sourced by the corpus scripts (bench/embed/corpus.sh, bench/guard/corpus*.sh),
# which build real English text from what they install:
#
#   source "$(dirname "$0")/../docs.sh"
#   install_doc_packages PROBES PKG...    PROBES: paths, ':'-separated, that all exist once the documentation is on disk
#   html_text < FILE.html                 the text of an HTML page, a blank line at every block-level tag
#   require_corpora FILE...               exits unless every FILE (an earlier corpus that a held-out guard corpus
#                                         leaves out) has text, naming the script that writes it
#
# Installs the missing packages (apt-get, through sudo when not root and sudo exists). Debian's docker images
# exclude /usr/share/man, /usr/share/doc and /usr/share/info from package installs (dpkg path-exclude): the packages
# are then installed but hold no documentation, so when such an exclusion is configured they are
# reinstalled with the exclusions lifted when a probe is absent.
install_doc_packages() {
  local probes=$1; shift
  local sudo="" p absent="" missing=()
  [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo=sudo
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  local IFS=:
  for p in $probes; do [[ -e "$p" ]] || absent=1; done
  unset IFS
  if [[ -n "$absent" ]] && ls /etc/dpkg/dpkg.cfg.d/* >/dev/null 2>&1 \
      && grep -qs 'path-exclude.*/usr/share/\(man\|doc\|info\)' /etc/dpkg/dpkg.cfg.d/*; then
    echo "dpkg excludes /usr/share/doc here; reinstalling with the exclusions lifted" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --reinstall \
      -o Dpkg::Options::=--path-include='/usr/share/*' "$@" >/dev/null
  fi
}

# The guard corpora a held-out one must not overlap: corpus-X.txt is written by bench/guard/corpus-X.sh.
require_corpora() {
  local e hint
  for e in "$@"; do
    [[ -s "$e" ]] && continue
    case "$(basename "$e")" in
      corpus*.txt) hint="run bench/guard/$(basename "$e" .txt).sh first (bench/guard/traffic.sh builds them in order)" ;;
      *) hint="give a corpus file that exists" ;;
    esac
    echo "$(basename "$0"): $e missing: $hint" >&2
    exit 1
  done
}

# Strips tags and entities; scripts, styles, code, navigation and tables go; a block-level tag ends a paragraph.
html_text() {
  /usr/bin/python3 -c '
import html, re, sys
t = sys.stdin.read()
t = re.sub(r"(?is)<(script|style|pre|code|head|nav|table)\b.*?</\1>", "\n\n", t)
t = re.sub(r"(?i)</?(p|div|h[1-6]|li|ul|ol|dl|dt|dd|br|tr|section|blockquote)\b[^>]*>", "\n\n", t)
t = re.sub(r"<[^>]+>", " ", t)
sys.stdout.write(html.unescape(t))'
}

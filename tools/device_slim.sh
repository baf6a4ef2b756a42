#!/usr/bin/env bash
# The working tree small enough for the device tool (it sends the tree, 64 MiB a call with the carried .devdata and
# .whl) and back. The committed results/ and weights/ and the zoo codecs a device run does not start from are 78 MB
# of the 85 MB tree (forty-second session); only committed, unmodified files are removed, so git restores them.
#   bash tools/device_slim.sh [KEEP_CODEC]   remove results/, weights/ and every zoo codec but KEEP_CODEC
#                                            (default hyperprior-continuous; "none": all of them), print what travels
#   bash tools/device_slim.sh --back         restore them from git (also after a session ended in between)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,7p' tools/device_slim.sh | cut -c3-
  exit 0
fi
if [ "${1:-}" = "--back" ]; then
  git checkout -- results weights cae_helpers/zoo
  echo "restored results/, weights/ and cae_helpers/zoo/ from git"
  exit 0
fi
keep=${1:-hyperprior-continuous}
if [ "$keep" != none ] && [ ! -f "cae_helpers/zoo/$keep/weights.npz" ]; then
  echo "refused: no zoo codec named $keep (cae_helpers/zoo/ holds: $(ls cae_helpers/zoo | tr '\n' ' ')); or pass none" >&2
  exit 1
fi
paths=(results weights)
for d in cae_helpers/zoo/*/; do
  name=$(basename "$d")
  [ "$name" = "$keep" ] || paths+=("cae_helpers/zoo/$name")
done
if [ -n "$(git status --porcelain -- "${paths[@]}")" ]; then
  echo "refused: uncommitted changes under ${paths[*]}: commit them first (only committed files are removed, so git can restore them)" >&2
  exit 1
fi
git ls-files -z -- "${paths[@]}" | xargs -0 rm -f
find "${paths[@]}" -type d -empty -delete 2>/dev/null || true
size() { { xargs -0 du -cb 2>/dev/null || true; } | awk '/\ttotal$/ {t += $1} END {print t + 0}'; }  # files on stdin, NUL-separated
tree=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | size)  # removed files are still listed: du skips them
carried=$(printf '%s\0' .devdata .whl | size)
echo "removed ${paths[*]} (committed; bash tools/device_slim.sh --back restores them)"
echo "what travels: the tree $((tree / 1048576)) MiB + .devdata and .whl $((carried / 1048576)) MiB, of 64 MiB a call"

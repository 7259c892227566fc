#!/usr/bin/env bash
# make schema-diff: report every change of the published schema (graph/schema.graphql) against
# the last published version, with graphql-inspector (pinned in e2e/package-lock.json), and fail
# on a breaking one unless it was declared.
#
# What it compares against (BASE):
# - SCHEMA_BASE=<commit> when given (e.g. SCHEMA_BASE=origin/main on a branch);
# - otherwise, when the working tree's schema differs from HEAD's: HEAD (what you are about to commit);
# - otherwise (a clean clone, as in CI): the version before the last commit that changed the file,
#   i.e. the change that last landed. On a merge commit that is the first parent's version, so the
#   whole merged branch is compared.
# A breaking change is accepted when a commit in BASE..HEAD (a merge commit included) carries the
# trailer `Schema-Breaking: <why and what clients must do>` in its message (or, for uncommitted
# work, when SCHEMA_BREAKING_OK=1). Without an earlier version there is nothing to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
file=graph/schema.graphql
inspector=e2e/node_modules/.bin/graphql-inspector

base=${SCHEMA_BASE:-}
if [ -z "$base" ]; then
  if ! git diff --quiet HEAD -- "$file" 2>/dev/null; then
    base=HEAD
  else
    last=$(git log -1 --first-parent --format=%H -- "$file")
    base=$(git rev-parse -q --verify "$last^" || true)
  fi
fi
if [ -z "$base" ] || ! git cat-file -e "$base:$file" 2>/dev/null; then
  echo "schema-diff: no earlier published schema to compare with (base: ${base:-none}); nothing to check"
  exit 0
fi

old=$(mktemp --suffix=.graphql)
trap 'rm -f "$old"' EXIT
git show "$base:$file" > "$old"
echo "schema-diff: $file against $(git rev-parse --short "$base") ($(git log -1 --format=%s "$base" | cut -c1-60))"
if "$inspector" diff "$old" "$file"; then
  exit 0
fi
if [ "${SCHEMA_BREAKING_OK:-}" = 1 ] ||
  git log --format=%B "$base..HEAD" | grep -q '^Schema-Breaking:'; then
  echo "schema-diff: the breaking changes above are declared (Schema-Breaking: trailer); accepted"
  exit 0
fi
echo "schema-diff: breaking changes to the published schema. Keep the old field or argument (mark it @deprecated)," >&2
echo "or, if clients have been told, add a 'Schema-Breaking: <what changed and what clients do>' trailer to the commit." >&2
exit 1

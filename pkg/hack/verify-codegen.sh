#!/usr/bin/env bash
# Fails when the committed generated code or CRDs differ from what update-codegen.sh produces:
# it regenerates into a copy of the checkout and compares.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The copy holds what the generators read: the workspace and the modules, without build output.
tar -C "$ROOT" --exclude=./.git --exclude=./.bin --exclude=./bin --exclude=./.sandbox -cf - . | tar -C "$TMP" -xf -
TOOLS_BIN="$ROOT/.bin" "$ROOT/pkg/hack/update-codegen.sh" "$TMP" >/dev/null

status=0
for path in pkg/generated pkg/apis deploy/crds; do
	if ! diff -Naupr "$ROOT/$path" "$TMP/$path" >"$TMP/diff.txt"; then
		echo "$path is out of date; run 'make generate':" >&2
		head -n 40 "$TMP/diff.txt" >&2
		status=1
	fi
done
[ "$status" = 0 ] && echo "generated code and CRDs are up to date"
exit "$status"

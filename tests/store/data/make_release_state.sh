#!/bin/bash
# How release-state.db was made: the state database of a small project built by the release whose
# state schema is version 1 (datamake at commit 57497af), kept so that every later schema must open it.
# usage: make_release_state.sh RELEASE_CHECKOUT OUT.db   (RELEASE_CHECKOUT: `git archive 57497af` unpacked)
set -eu
release=$(realpath "$1"); out=$(realpath "$2")
project=/tmp/datamake-release-state  # recorded in the database as the project's absolute path
rm -rf "$project"; mkdir -p "$project"; cd "$project"
datamake() { PYTHONPATH="$release" python3 -m datamake --state-dir state "$@" || true; }

printf 'a,1\n' > in.csv
cat > plain.drake <<'DRAKE'
out/a.csv <- in.csv [check:hash]
  cp $INPUT $OUTPUT
out/b.csv <- out/a.csv
  echo broken >&2; exit 3
DRAKE
cat > daily.drake <<'DRAKE'
%schedule daily start:2026-11-01
day/$[DATE].csv <-
  [ "$DATE" != 2026-11-02 ] || exit 4
  echo $DATE > $OUTPUT
DRAKE
datamake -w plain.drake -q
datamake -w daily.drake -q --once --now 2026-11-04T12:00
python3 - "$out" <<'PY'
import sqlite3, sys
db = sqlite3.connect("state/state.db")
version = db.execute("PRAGMA user_version").fetchone()[0]
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
db = sqlite3.connect("state/state.db")
db.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
db.execute("VACUUM")
assert db.execute("PRAGMA user_version").fetchone()[0] == version == 1
db.close()
PY
cp state/state.db "$out"

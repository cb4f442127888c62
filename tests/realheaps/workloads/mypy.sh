#!/bin/sh
# mypy.sh INTERPRETER SRCDIR - Debian's mypy (1.0.1, compiled with mypyc)
# checking copies of three pure-Python packages of dist-packages (astroid,
# isort, tomlkit; copied so that nothing else in dist-packages shadows
# typeshed), without a cache: one pure run of ~10 s.  -v logs each SCC as it
# is processed; realcheck.py injects the recorder when the first of astroid's
# is (typeshed's stdlib and the other packages' trees are built by then).
D=/usr/lib/python3/dist-packages
S=$2
mkdir -p "$S" || exit 1
(cd $D && find astroid isort tomlkit \( -name '*.py' -o -name '*.pyi' -o -name py.typed \) \
	! -path '*/__pycache__/*' -print0 | tar --null -cf - -T -) | tar -C "$S" -xf - || exit 1
cd "$S" || exit 1
exec "$1" /usr/bin/mypy --cache-dir=/dev/null --ignore-missing-imports \
	--follow-imports=silent --no-error-summary --check-untyped-defs -v \
	astroid isort tomlkit

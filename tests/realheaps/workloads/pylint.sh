#!/bin/sh
# pylint.sh INTERPRETER - Debian's pylint (2.16, astroid, wrapt) linting two
# stdlib packages in one process (--jobs=1), as a real program nobody on the
# project designed.  realcheck.py injects the recorder once pylint reports on
# the first module of email/ (json/ done, astroid's caches full), while it is
# still working: the run takes ~10 s, ~4 s on to that point.
L=/usr/lib/python3.11
exec "$1" -m pylint --jobs=1 --persistent=n --score=n $L/json $L/email $L/http

#!/bin/sh
# Sets up a fresh Debian 12 checkout: installs dependencies (deps/install.sh),
# generates the build system, configures (once) and builds.
# Extra arguments go to ./configure the first time, e.g. --enable-sanitizers.
set -eu
cd "$(dirname "$0")/.."
./deps/install.sh
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
    ./configure -q "$@"
fi
make -s -j"$(nproc)"

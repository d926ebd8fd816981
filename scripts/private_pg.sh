#!/usr/bin/env bash
# Makes a private copy of the PostgreSQL 15 installation under DIR, so that `make install`
# from one work tree does not replace the extension another work tree is testing.
# PostgreSQL finds its share and lib folders relative to its own binaries, so the copy
# loads only what is installed into it. Prints the line to export.
#   scripts/private_pg.sh /opt/pgwt/mine   ->   export CQ_PG_BINDIR=/opt/pgwt/mine/.../bin
set -euo pipefail
dir=${1:?usage: scripts/private_pg.sh DIR}
mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" "$dir/usr/include"
[[ -d "$dir/usr/lib/postgresql/15" ]] || cp -a /usr/lib/postgresql/15 "$dir/usr/lib/postgresql/"
[[ -d "$dir/usr/share/postgresql/15" ]] ||
    cp -a /usr/share/postgresql/15 "$dir/usr/share/postgresql/"
[[ -e "$dir/usr/include/postgresql" ]] || ln -s /usr/include/postgresql "$dir/usr/include/"
chmod -R a+rX "$dir"
echo "export CQ_PG_BINDIR=$dir/usr/lib/postgresql/15/bin"

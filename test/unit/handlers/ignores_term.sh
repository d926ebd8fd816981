#!/bin/sh
# A command handler that ignores SIGTERM (as does the sleep it runs) and writes its pid to $1.
trap '' TERM
echo $$ >"$1"
while :; do sleep 1; done

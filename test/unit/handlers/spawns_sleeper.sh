#!/bin/sh
# A command handler that starts a grandchild, writes its pid to the file $1 and waits for it.
sleep 1000 &
echo $! >"$1"
wait

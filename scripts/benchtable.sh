#!/bin/sh
# Turns `go test -bench` output on stdin into a Markdown table on stdout:
# one row per benchmark with every metric it reported (ns/op, B/op,
# allocs/op and custom ones such as msgs/s or units/msg). Lines that are not
# benchmark results (goos, pkg, PASS, ok) are dropped, failures are kept.
set -eu
awk '
/^(FAIL|---|panic)/ { print > "/dev/stderr"; failed = 1; next }
/^pkg: / { pkg = $2; next }
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	row = "| " pkg " | " name " | " $2
	metrics = ""
	for (i = 3; i < NF; i += 2) metrics = metrics " " $i " " $(i + 1) ";"
	rows[++n] = row " |" metrics " |"
}
END {
	print "| package | benchmark | iterations | metrics |"
	print "| --- | --- | --- | --- |"
	for (i = 1; i <= n; i++) print rows[i]
	exit failed
}'

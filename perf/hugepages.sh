#!/usr/bin/env bash
# Reserve 2 MiB huge pages and mount hugetlbfs, as root, so that the
# benchmarks give DPDK the memory it has in production.  Harmless to rerun.
set -eu
pages=${1:-1600}
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
have=$(cat /proc/sys/vm/nr_hugepages)
[ "$have" -ge "$pages" ] || echo "$pages" >/proc/sys/vm/nr_hugepages
grep -E 'HugePages_(Total|Free)' /proc/meminfo

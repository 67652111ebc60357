/*
 * worker.h - what main.c hands a worker lcore (DPDK-facing, so kept out
 * of dataplane.h, which the DPDK-free unit tests include).
 */
#ifndef RM_WORKER_H
#define RM_WORKER_H

#include "dataplane.h"
#include "dir24.h"
#include "trie6.h"

#define RM_MAX_BURST  64
#define RM_MAX_QUEUES 64

struct rm_worker {
	struct rm_counters counters; /* first, cache-aligned: only this lcore writes */
	unsigned lcore;
	unsigned n_queues;
	struct {
		uint16_t port, queue;
	} queues[RM_MAX_QUEUES];
	uint16_t burst;
	uint16_t io_only; /* benchmark baseline: receive and free, no work */
	const struct rm_db *db;
	const uint8_t *rir_of;
	rm_dir24_bulk_fn lookup4;
	rm_trie6_bulk_fn lookup6;
	volatile int *stop;
} __attribute__((aligned(64)));

int rm_worker_main(void *arg);

#endif

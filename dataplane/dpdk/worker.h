/*
 * worker.h - what main.c hands a worker lcore (worker.c): the generation
 * it reads and the queues it polls.
 *
 * A worker reads the current generation (snapshot, lookups, and one
 * counter block per worker) through one pointer that the main lcore
 * publishes, once per burst, and reports a quiescent state to RCU after
 * every burst.  So a new snapshot takes effect at a burst boundary, and
 * the main lcore knows when no worker can still be using the old one: its
 * counters are then final and its mapping can go.
 */
#ifndef RM_WORKER_H
#define RM_WORKER_H

#include <rte_rcu_qsbr.h>

#include "counters.h"
#include "dir24.h"
#include "export.h"
#include "flow.h"
#include "ipfix.h"
#include "trie6.h"

#define RM_MAX_BURST  64
#define RM_MAX_QUEUES 64

/* What a worker needs of one snapshot generation. */
struct rm_gen_view {
	const struct rm_db *db;
	const uint8_t *rir_of;
	struct rm_counters *counters; /* indexed by worker */
	rm_dir24_bulk_fn lookup4;
	rm_trie6_bulk_fn lookup6;
	const struct rm_ipfix_ends *ends; /* each id's enrichment, encoded for export */
};

struct rm_worker {
	unsigned index, lcore;
	unsigned n_queues;
	struct {
		uint16_t port, queue;
	} queues[RM_MAX_QUEUES];
	uint16_t burst;
	uint16_t io_only; /* benchmark baseline: receive and free, no work */
	const struct rm_gen_view *const volatile *current;
	struct rte_rcu_qsbr *qsv;
	volatile int *stop;
	const struct rm_flow_config *flows; /* NULL: no flow ports */
	struct rm_flow_state *fs;	    /* this worker's exporters and templates */
	struct rm_export *export;	    /* --ipfix-export, or NULL */
	/* The longest pass of the poll loop, in TSC cycles: what a stall of
	 * this worker (a swap, a page fault, a preemption) would show as. */
	volatile uint64_t max_loop_tsc;
	volatile uint64_t max_loop_at; /* TSC at its end */
} __attribute__((aligned(64)));

int rm_worker_main(void *arg);

#endif

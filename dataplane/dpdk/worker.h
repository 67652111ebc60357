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

#include "burst.h"
#include "counters.h"
#include "gen.h"
#include "export.h"
#include "flow.h"
#include "ipfix.h"
#include "lookup.h"

#define RM_MAX_QUEUES 64

struct rm_worker {
	unsigned index, lcore;
	unsigned n_queues;
	struct {
		uint16_t port, queue;
	} queues[RM_MAX_QUEUES];
	uint16_t burst;
	uint16_t io_only; /* benchmark baseline: receive and free, no work */
	uint8_t tunnels;  /* enum rm_tunnel_mode: which addresses are attributed */
	const struct rm_gen_view *const volatile *current;
	struct rte_rcu_qsbr *qsv;
	volatile int *stop;
	const struct rm_flow_config *flows; /* NULL: no flow ports */
	struct rm_flow_state *fs;	    /* this worker's exporters and templates */
	/* --flows-allow (NULL: none), loaded once a burst (main.c reload_allow) */
	const struct rm_flow_allow *const volatile *allow;
	struct rm_export *export; /* --ipfix-export, or NULL */
	/* The longest pass of the poll loop, in TSC cycles: what a stall of
	 * this worker (a swap, a page fault, a preemption) would show as. */
	volatile uint64_t max_loop_tsc;
	volatile uint64_t max_loop_at; /* TSC at its end */
} __attribute__((aligned(64)));

int rm_worker_main(void *arg);

#endif

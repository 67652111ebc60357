/*
 * batch.h - `rirmeter -r FILE...`: capture files attributed by threads,
 * without EAL, huge pages or DPDK ports (batch.c).
 *
 * The same frame parser, lookups, counters, flow decoders and outputs as
 * the live dataplane (burst.h, gen.h, rows.h, formats.h); frames are read
 * in place from the files (capture.h).
 */
#ifndef RM_BATCH_H
#define RM_BATCH_H

#include <stdint.h>

#include "flow.h"
#include "formats.h"
#include "parse.h"

struct rm_batch_config {
	const char *db;	    /* the snapshot */
	char *const *files; /* read in this order */
	unsigned n_files;
	unsigned threads;		    /* 0: one per online CPU */
	double interval;		    /* seconds of capture time; 0: totals only */
	struct rm_outputs out;		    /* opened by the caller */
	int quiet;			    /* no table */
	const struct rm_flow_config *flows; /* NULL: no flow ports */
	const struct rm_flow_allow *allow;  /* --flows-allow, or NULL */
	uint64_t flows_idle_ms;
	enum rm_tunnel_mode tunnels; /* --tunnels: which addresses are attributed */
};

/*
 * Attribute every frame of the files and write the outputs: each
 * interval's lines when the capture's timestamps pass its end (the line's
 * ts is that end, in capture time), then the totals (ts: the last frame's
 * time).  Returns 0; 1 after a runtime error (a file cut short, named on
 * stderr and counted as capture_truncated, the rest still reported; a
 * write error; counts that do not balance); 2 when a file is not a capture
 * or cannot be opened, or the snapshot is refused (nothing is read).
 */
int rm_batch_run(const struct rm_batch_config *cfg);

#endif

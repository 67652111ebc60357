/*
 * formats.h - rows written out (formats.c): JSON Lines, CSV, the Prometheus
 * exposition (textfile and in memory for the HTTP endpoint), and the table
 * at exit with its balance line.
 */
#ifndef RM_FORMATS_H
#define RM_FORMATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rows.h"

/* Bytes of a holder's name kept in its Prometheus label (formats.c). */
#define RM_PROM_NAME_MAX 64

struct rm_port_stats {
	uint16_t port;
	uint64_t rx, missed, errors;
};

struct rm_outputs {
	FILE *json, *csv; /* NULL when not wanted */
	const char *prom; /* textfile path, written atomically */
	unsigned top;	  /* keys kept of a top scope, per snapshot and direction */
};

/* Whether rows of scope are cut to the top N by bytes (holder,
 * inner_holder, country_located, asn). */
bool rm_scope_is_top(const char *scope);

/*
 * The rows as the outputs write them, appended to out: compacted, the top
 * scopes cut to the top N by bytes per snapshot and direction with the
 * rest as "other", and the port lines added under port_snap.
 */
void rm_rows_finish(const struct rm_outputs *o, const struct rm_rows *in,
		    const struct rm_port_stats *ports, unsigned n_ports, const char *port_snap,
		    struct rm_rows *out);

/*
 * Write rows as one interval of `interval` seconds, or as the totals, to
 * the JSON and CSV outputs, with the port counters as health lines under
 * port_snap.  Returns 0, or -1 after a write error (reported).
 */
int rm_write_rows(const struct rm_outputs *o, const struct rm_rows *rows,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *port_snap,
		  double ts, double interval, bool total);
/* The Prometheus textfile: cumulative rows summed over snapshots. */
int rm_write_prom(const struct rm_outputs *o, const struct rm_rows *total,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		  const char *snap_inputs);
/* The same text in memory (for the HTTP endpoint); the caller frees *text. */
int rm_render_prom(const struct rm_outputs *o, const struct rm_rows *total,
		   const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		   const char *snap_inputs, char **text, size_t *len);
/* The per-registry table and the balance line; 0 when the counts balance. */
int rm_write_table(FILE *out, const struct rm_rows *total);

#endif

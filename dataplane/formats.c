/*
 * formats.c - rows written out: JSON Lines, CSV, the Prometheus textfile
 * and exposition, and the table at exit.
 *
 * Every JSON line and CSV row is a record of common/record.h: ts,
 * interval, snapshot, scope, dir (not for rir_pair, health and tunnel),
 * key, packets and bytes (not for the port counters), and in JSON a
 * holder's name when it has one (CSV keeps its columns: record.h).
 *
 * In the exposition a holder's series is keyed by its stable id (label
 * holder); its name is an informational label, the first
 * RM_PROM_NAME_MAX bytes cut between characters.  A name that changes
 * (a snapshot loaded with another name for the holder) still starts a
 * new series, as any label change does in Prometheus.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "grow.h"
#include "output.h"
#include "record.h"

/* Rows by bytes, largest first; an "other" row already there (the flow
 * records' AS numbers beyond their table, rows.c) last, so that a cut
 * folds it into its own "other" rather than writing two. */
static int by_bytes(const void *pa, const void *pb)
{
	const struct rm_row *a = pa, *b = pb;
	int ao = strcmp(a->key, "other") == 0, bo = strcmp(b->key, "other") == 0;
	if (ao != bo)
		return ao - bo;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return strcmp(a->key, b->key);
}

bool rm_scope_is_top(const char *scope)
{
	static const char *const top[] = {"holder", "inner_holder", "country_located", "asn"};
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if (strcmp(scope, top[i]) == 0)
			return true;
	return false;
}

void rm_rows_finish(const struct rm_outputs *o, const struct rm_rows *in,
		    const struct rm_port_stats *ports, unsigned n_ports, const char *port_snap,
		    struct rm_rows *out)
{
	rm_rows_append(out, in);
	rm_rows_compact(out);
	for (uint32_t i = 0; i < out->n;) {
		uint32_t j = i;
		struct rm_row *r = &out->v[i];
		while (j < out->n && strcmp(out->v[j].snap, r->snap) == 0 &&
		       strcmp(out->v[j].scope, r->scope) == 0 &&
		       (out->v[j].dir == r->dir ||
			(out->v[j].dir && r->dir && strcmp(out->v[j].dir, r->dir) == 0)))
			j++;
		if (rm_scope_is_top(r->scope) && j - i > o->top) {
			qsort(r, j - i, sizeof(*r), by_bytes);
			uint64_t op = 0, ob = 0;
			for (uint32_t k = i + o->top; k < j; k++) {
				op += out->v[k].packets;
				ob += out->v[k].bytes;
			}
			struct rm_row other = out->v[i + o->top];
			snprintf(other.key, sizeof(other.key), "other");
			other.name = "";
			other.packets = op;
			other.bytes = ob;
			out->v[i + o->top] = other;
			memmove(&out->v[i + o->top + 1], &out->v[j], (out->n - j) * sizeof(*r));
			out->n -= j - (i + o->top + 1);
			j = i + o->top + 1;
		}
		i = j;
	}
	char key[64];
	for (unsigned i = 0; i < n_ports; i++) {
		snprintf(key, sizeof(key), "port.%u.rx", ports[i].port);
		rm_rows_push(out, port_snap, "health", NULL, key, ports[i].rx, 0, 0);
		snprintf(key, sizeof(key), "port.%u.missed", ports[i].port);
		rm_rows_push(out, port_snap, "health", NULL, key, ports[i].missed, 0, 0);
		snprintf(key, sizeof(key), "port.%u.errors", ports[i].port);
		rm_rows_push(out, port_snap, "health", NULL, key, ports[i].errors, 0, 0);
	}
}

/* ------------------------------------------------------------------ */
/* Formats                                                             */

/* Each row as a record (record.h): a JSON line, or a CSV row when csv. */
static void write_records(FILE *o, int csv, const struct rm_rows *rs, const char *ts,
			  const char *interval)
{
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct rm_row *w = &rs->v[i];
		struct rm_record r = {
		    .has = RM_RECORD_TRAFFIC & ~(w->dir ? 0 : RM_FIELD(RM_F_DIR)) &
			   ~(w->has_bytes ? 0 : RM_FIELD(RM_F_BYTES)),
		    .ts = ts,
		    .interval = interval,
		    .snapshot = w->snap,
		    .scope = w->scope,
		    .dir = w->dir,
		    .key = w->key,
		    .packets = w->packets,
		    .bytes = w->bytes,
		    .name = w->name,
		};
		if (w->name[0]) /* JSON only: not a column of rs' column set */
			r.has |= RM_FIELD(RM_F_NAME);
		if (csv)
			rm_record_write_csv(o, &r, RM_RECORD_TRAFFIC);
		else
			rm_record_write_json(o, &r);
	}
}

int rm_write_rows(const struct rm_outputs *o, const struct rm_rows *rows,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *port_snap,
		  double ts, double interval, bool total)
{
	char when[RM_RFC3339_LEN], length[32];
	rm_rfc3339(when, ts, 1);
	snprintf(length, sizeof(length), total ? "total" : "%g", interval);
	struct rm_rows rs = {0};
	rm_rows_finish(o, rows, ports, n_ports, port_snap, &rs);
	int rc = 0;
	if (o->json) {
		write_records(o->json, 0, &rs, when, length);
		if (fflush(o->json) || ferror(o->json)) {
			fprintf(stderr, "rirmeter: JSON output: write failed: %s\n",
				strerror(errno));
			rc = -1;
		}
	}
	if (o->csv) {
		write_records(o->csv, 1, &rs, when, length);
		if (fflush(o->csv) || ferror(o->csv)) {
			fprintf(stderr, "rirmeter: CSV output: write failed: %s\n",
				strerror(errno));
			rc = -1;
		}
	}
	rm_rows_free(&rs);
	return rc;
}

/*
 * Prometheus label values: the display text of v (output.h: no control
 * character, valid UTF-8, as the exposition format requires), then
 * backslash and quote escaped as the format wants.  A control character
 * thus reads "\\x1b" in the file and "\x1b" in Prometheus.
 */
static void prom_label(FILE *o, const char *name, const char *v)
{
	char stack[1024], *text = stack;
	size_t need = rm_text_escape(NULL, 0, v);
	if (need >= sizeof(stack) && !(text = malloc(need + 1)))
		rm_out_of_memory(); /* the policy of common/grow.h */
	rm_text_escape(text, need + 1, v);
	fprintf(o, "%s=\"", name);
	for (const char *p = text; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', o);
		fputc(*p, o);
	}
	fputc('"', o);
	if (text != stack)
		free(text);
}

static void prom_help(FILE *o, const char *metric, const char *help, const char *type)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

/* The holder's name as a label: its first RM_PROM_NAME_MAX bytes, cut
 * between characters, so that a long name does not make a long series. */
static void prom_name_label(FILE *o, const char *name)
{
	char cut[RM_PROM_NAME_MAX + 1];
	size_t n = rm_utf8_cut(name, strnlen(name, RM_PROM_NAME_MAX));
	memcpy(cut, name, n);
	cut[n] = '\0';
	fputc(',', o);
	prom_label(o, "name", cut);
}

/* Whether any row is of scope. */
static bool has_scope(const struct rm_rows *rs, const char *scope)
{
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, scope) == 0)
			return true;
	return false;
}

/* One metric family from the rows of a scope: country and nir keys split
 * into rir and country (nir) labels, country_located's into registered and
 * located, a holder's name as a label; an inner scope (inner_rir, ...,
 * --tunnels both) is labelled as its outer one, and written only when it
 * has rows, as are the located ones. */
static void prom_scope(FILE *o, const struct rm_rows *rs, const char *scope, const char *what,
		       int bytes)
{
	char name[96], help[160];
	const char *full = scope;
	if (strncmp(scope, "inner_", 6) == 0) {
		if (!has_scope(rs, scope))
			return;
		scope += 6;
	}
	/* The located scopes only with a located layer: without one the
	 * exposition is what it was before they existed. */
	static const char *const located[] = {"geo_country", "country_located", "asn", "origin"};
	for (size_t i = 0; i < sizeof(located) / sizeof(located[0]); i++)
		if (strcmp(scope, located[i]) == 0 && !has_scope(rs, scope))
			return;
	snprintf(name, sizeof(name), "rirmeter_%s_%s_total", full, bytes ? "bytes" : "packets");
	snprintf(help, sizeof(help), "%s by %s.", bytes ? "Bytes" : "Packets", what);
	prom_help(o, name, help, "counter");
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct rm_row *w = &rs->v[i];
		if (strcmp(w->scope, full) != 0)
			continue;
		char k[sizeof(w->key)], *cut;
		memcpy(k, w->key, sizeof(k));
		fprintf(o, "%s{", name);
		if (strcmp(scope, "rir_pair") == 0 && (cut = strchr(k, '>'))) {
			*cut = '\0';
			prom_label(o, "src_rir", k);
			fputc(',', o);
			prom_label(o, "dst_rir", cut + 1);
		} else {
			prom_label(o, "direction", w->dir);
			fputc(',', o);
			if ((strcmp(scope, "country") == 0 || strcmp(scope, "nir") == 0) &&
			    (cut = strchr(k, ':'))) {
				*cut = '\0';
				prom_label(o, "rir", k);
				fputc(',', o);
				prom_label(o, scope, cut + 1);
			} else if (strcmp(scope, "country_located") == 0) {
				/* "NL>DE", or "other" in both labels */
				cut = strchr(k, '>');
				if (cut)
					*cut = '\0';
				prom_label(o, "registered", k);
				fputc(',', o);
				prom_label(o, "located", cut ? cut + 1 : k);
			} else {
				prom_label(o, scope, k);
			}
			if (w->name[0])
				prom_name_label(o, w->name);
		}
		fprintf(o, "} %" PRIu64 "\n", bytes ? w->bytes : w->packets);
	}
}

static uint64_t health_value(const struct rm_rows *rs, const char *key, int bytes)
{
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, "health") == 0 && strcmp(rs->v[i].key, key) == 0)
			return bytes ? rs->v[i].bytes : rs->v[i].packets;
	return 0;
}

/* "flow/KIND/ADDR/DOMAIN/COUNTER" (or "flow/COUNTER") into its parts; the
 * count. */
static unsigned flow_key_parts(char *k, char *part[4])
{
	unsigned n = 0;
	for (char *s = k + 5, *t; n < 4 && s; s = t) {
		t = strchr(s, '/');
		if (t)
			*t++ = '\0';
		part[n++] = s;
	}
	return n;
}

/* One family of per-exporter samples: counter is a name rm_exp_counter_name
 * gives, or "malformed". */
static void prom_exporter_family(FILE *o, const struct rm_rows *rs, const char *counter)
{
	char name[96];
	int mal = strcmp(counter, "malformed") == 0;
	snprintf(name, sizeof(name), "rirmeter_flow_exporter_%s_total", counter);
	prom_help(o, name,
		  mal ? "Flow datagrams dropped, by exporter and reason"
		      : "Flow collector counters, by exporter",
		  "counter");
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct rm_row *w = &rs->v[i];
		char k[sizeof(w->key)], *part[4];
		if (strcmp(w->scope, "health") != 0 || strncmp(w->key, "flow/", 5) != 0)
			continue;
		memcpy(k, w->key, sizeof(k));
		if (flow_key_parts(k, part) != 4 ||
		    (mal ? strncmp(part[3], "malformed.", 10) : strcmp(part[3], counter)) != 0)
			continue;
		fprintf(o, "%s{", name);
		prom_label(o, "protocol", part[0]);
		fputc(',', o);
		prom_label(o, "exporter", part[1]);
		fputc(',', o);
		prom_label(o, "domain", part[2]);
		if (mal) {
			fputc(',', o);
			prom_label(o, "reason", part[3] + 10);
		}
		fprintf(o, "} %" PRIu64 "\n", w->packets);
	}
}

/* One sample of metric per health row whose key starts with prefix, the
 * rest of the key as its label. */
static void prom_health_by(FILE *o, const struct rm_rows *rs, const char *metric, const char *label,
			   const char *prefix)
{
	size_t n = strlen(prefix);
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, "health") == 0 &&
		    strncmp(rs->v[i].key, prefix, n) == 0) {
			fprintf(o, "%s{", metric);
			prom_label(o, label, rs->v[i].key + n);
			fprintf(o, "} %" PRIu64 "\n", rs->v[i].packets);
		}
}

/* The flow collector: datagrams and records, drops, then each exporter's
 * counters. */
static void prom_flow(FILE *o, const struct rm_rows *rs)
{
	if (!rm_report_flows_on())
		return;
	prom_help(o, "rirmeter_flow_datagrams_total", "Datagrams taken as flow export", "counter");
	fprintf(o, "rirmeter_flow_datagrams_total %" PRIu64 "\n",
		health_value(rs, "flow_datagrams", 0));
	prom_help(o, "rirmeter_flow_datagram_bytes_total", "Frame bytes of flow export", "counter");
	fprintf(o, "rirmeter_flow_datagram_bytes_total %" PRIu64 "\n",
		health_value(rs, "flow_datagrams", 1));
	prom_help(o, "rirmeter_flow_records_total", "Flow records attributed", "counter");
	fprintf(o, "rirmeter_flow_records_total %" PRIu64 "\n",
		health_value(rs, "flow_records", 0));
	prom_help(o, "rirmeter_flow_exporters_full_total",
		  "Flow datagrams from exporters beyond the exporter table", "counter");
	fprintf(o, "rirmeter_flow_exporters_full_total %" PRIu64 "\n",
		health_value(rs, "flow/exporters_full", 0));
	static const char *const simple[][3] = {
	    {"rirmeter_flow_denied_total", "flow/denied",
	     "Flow datagrams from sources outside --flows-allow, dropped"},
	    {"rirmeter_flow_exporters_aged_total", "flow/aged",
	     "Exporters released after --flows-idle of silence"},
	    {"rirmeter_flow_exporters_evicted_total", "flow/evicted",
	     "Probationary exporters evicted by newcomers to a full table"},
	    {"rirmeter_flow_allow_reload_failed_total", "flow/allow_reload_failed",
	     "Reloads of --flows-allow @FILE refused (the old list kept)"},
	};
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		prom_help(o, simple[k][0], simple[k][2], "counter");
		fprintf(o, "%s %" PRIu64 "\n", simple[k][0], health_value(rs, simple[k][1], 0));
	}
	/* Space-saving counts of a few sources: one may leave the list and come
	 * back lower, so a gauge. */
	prom_help(o, "rirmeter_flow_denied_source_datagrams",
		  "Datagrams denied from the top denied sources (approximate)", "gauge");
	prom_health_by(o, rs, "rirmeter_flow_denied_source_datagrams", "source",
		       "flow/denied_from/");
	prom_help(o, "rirmeter_flow_released_total",
		  "Counters of exporters released from the table (aged or evicted), summed",
		  "counter");
	for (unsigned k = 0; k <= RM_EXP_COUNTERS; k++) {
		char key[64];
		const char *c = k < RM_EXP_COUNTERS ? rm_exp_counter_name(k) : "malformed";
		snprintf(key, sizeof(key), "flow/released/%s", c);
		fputs("rirmeter_flow_released_total{", o);
		prom_label(o, "counter", c);
		fprintf(o, "} %" PRIu64 "\n", health_value(rs, key, 0));
	}
	prom_help(o, "rirmeter_flow_malformed_total",
		  "Flow datagrams dropped before their exporter was known", "counter");
	prom_health_by(o, rs, "rirmeter_flow_malformed_total", "reason", "flow/malformed.");
	for (unsigned k = 0; k < RM_EXP_COUNTERS; k++)
		prom_exporter_family(o, rs, rm_exp_counter_name(k));
	prom_exporter_family(o, rs, "malformed");
}

/* The ClickHouse sink's counters (chsink.h), when it runs. */
static void prom_clickhouse(FILE *o, const struct rm_rows *rs)
{
	static const struct {
		const char *key, *metric, *help, *type;
	} m[] = {
	    {"batches_sent", "rirmeter_clickhouse_batches_sent_total", "Batches ClickHouse stored",
	     "counter"},
	    {"rows_sent", "rirmeter_clickhouse_rows_sent_total", "Rows ClickHouse stored",
	     "counter"},
	    {"spooled", "rirmeter_clickhouse_batches_spooled_total",
	     "Batches written to the spool directory", "counter"},
	    {"replayed", "rirmeter_clickhouse_batches_replayed_total",
	     "Batches an earlier run left in the spool", "counter"},
	    {"already_stored", "rirmeter_clickhouse_batches_already_stored_total",
	     "Retried batches found already stored, not sent again", "counter"},
	    {"dropped_batches", "rirmeter_clickhouse_dropped_batches_total",
	     "Batches dropped: the spool was full", "counter"},
	    {"dropped_rows", "rirmeter_clickhouse_dropped_rows_total",
	     "Rows dropped: the spool was full", "counter"},
	    {"pending_batches", "rirmeter_clickhouse_pending_batches", "Batches not yet stored",
	     "gauge"},
	    {"pending_bytes", "rirmeter_clickhouse_pending_bytes",
	     "Bytes of batches not yet stored", "gauge"},
	};
	int on = 0;
	for (uint32_t i = 0; i < rs->n && !on; i++)
		on = strcmp(rs->v[i].scope, "health") == 0 &&
		     strncmp(rs->v[i].key, "clickhouse.", 11) == 0;
	if (!on)
		return;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char key[64];
		snprintf(key, sizeof(key), "clickhouse.%s", m[i].key);
		prom_help(o, m[i].metric, m[i].help, m[i].type);
		fprintf(o, "%s %" PRIu64 "\n", m[i].metric, health_value(rs, key, 0));
	}
	prom_help(o, "rirmeter_clickhouse_failures_total", "Failed attempts, by reason", "counter");
	prom_health_by(o, rs, "rirmeter_clickhouse_failures_total", "reason", "clickhouse.failed.");
}

static void prom_health(FILE *o, const struct rm_rows *rs, const struct rm_port_stats *ports,
			unsigned n_ports)
{
	static const char *const simple[] = {"received", "attributed", "non_ip", "not_flow"};
	for (size_t k = 0; k < 4; k++)
		for (int bytes = 0; bytes < 2; bytes++) {
			char name[96];
			snprintf(name, sizeof(name), "rirmeter_%s_%s_total", simple[k],
				 bytes ? "bytes" : "packets");
			prom_help(o, name, "Frames, by what became of them", "counter");
			for (uint32_t i = 0; i < rs->n; i++)
				if (strcmp(rs->v[i].scope, "health") == 0 &&
				    strcmp(rs->v[i].key, simple[k]) == 0)
					fprintf(o, "%s %" PRIu64 "\n", name,
						bytes ? rs->v[i].bytes : rs->v[i].packets);
		}
	prom_help(o, "rirmeter_malformed_packets_total", "Malformed frames, by reason", "counter");
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, "health") == 0 &&
		    strncmp(rs->v[i].key, "malformed.", 10) == 0)
			fprintf(o, "rirmeter_malformed_packets_total{reason=\"%s\"} %" PRIu64 "\n",
				rs->v[i].key + 10, rs->v[i].packets);
	prom_flow(o, rs);
	prom_clickhouse(o, rs);
	static const char *const port_metric[3] = {"rx_packets", "missed_packets", "errors"};
	for (int m = 0; m < 3; m++) {
		char name[96];
		snprintf(name, sizeof(name), "rirmeter_port_%s_total", port_metric[m]);
		prom_help(o, name, "Port counters from the NIC", "counter");
		for (unsigned i = 0; i < n_ports; i++)
			fprintf(o, "%s{port=\"%u\"} %" PRIu64 "\n", name, ports[i].port,
				m == 0	 ? ports[i].rx
				: m == 1 ? ports[i].missed
					 : ports[i].errors);
	}
}

/* The exposition text into f. */
/* The tunnel scope: each kind crossed, and what tunnels carried that is
 * not IP (non_ip, or a malformed reason). */
static void prom_tunnels(FILE *o, const struct rm_rows *rs)
{
	for (int inside = 0; inside < 2; inside++) {
		const char *name = inside ? "rirmeter_tunnel_unattributable_packets_total"
					  : "rirmeter_tunnel_packets_total";
		prom_help(o, name,
			  inside ? "Tunnelled frames whose innermost packet is not IP or malformed"
				 : "Frames by tunnel kind crossed",
			  "counter");
		for (uint32_t i = 0; i < rs->n; i++) {
			const struct rm_row *w = &rs->v[i];
			int payload =
			    strcmp(w->key, "non_ip") == 0 || strncmp(w->key, "malformed.", 10) == 0;
			if (strcmp(w->scope, "tunnel") != 0 || payload != inside)
				continue;
			fprintf(o, "%s{", name);
			prom_label(o, inside ? "reason" : "kind",
				   inside && payload && w->key[0] == 'm' ? w->key + 10 : w->key);
			fprintf(o, "} %" PRIu64 "\n", w->packets);
		}
	}
}

static void prom_text(FILE *f, const struct rm_outputs *o, const struct rm_rows *total,
		      const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		      const char *snap_inputs)
{
	/* Counters must not restart at a reload: sum over snapshots. */
	struct rm_rows merged = {0}, rs = {0};
	rm_rows_append(&merged, total);
	for (uint32_t i = 0; i < merged.n; i++)
		merged.v[i].snap[0] = '\0';
	rm_rows_finish(o, &merged, NULL, 0, "", &rs);
	rm_rows_free(&merged);
	static const char *const scopes[][2] = {
	    {"rir", "registry of the address"},
	    {"country", "registry and registered country"},
	    {"nir", "registry and NIR (empty: under none)"},
	    {"holder", "holder id (top N by bytes, rest other); name is informational"},
	    {"rir_pair", "source and destination registry"},
	    {"inner_rir", "registry of the innermost address"},
	    {"inner_country", "registry and registered country of the innermost address"},
	    {"inner_holder", "holder of the innermost address (top N by bytes, rest other)"},
	    {"inner_rir_pair", "source and destination registry of the innermost addresses"},
	    {"geo_country", "located country (location data; ZZ unknown)"},
	    {"country_located", "registered and located country (top N by bytes, rest other)"},
	    {"asn", "origin AS (top N by bytes, rest other; a flow record's own when it has one)"},
	    {"origin", "whether the origin AS is the block holder's (holder, other, unknown)"}};
	for (int bytes = 0; bytes < 2; bytes++)
		for (size_t k = 0; k < sizeof(scopes) / sizeof(scopes[0]); k++)
			prom_scope(f, &rs, scopes[k][0], scopes[k][1], bytes);
	prom_health(f, &rs, ports, n_ports);
	prom_tunnels(f, &rs);
	prom_help(f, "rirmeter_transition_addresses_total",
		  "Addresses attributed as the IPv4 they carry, by how (6to4, teredo, nat64)",
		  "counter");
	prom_health_by(f, &rs, "rirmeter_transition_addresses_total", "via", "via.");
	if (rm_report_flows_on() && has_scope(&rs, "asn")) {
		prom_help(f, "rirmeter_asn_source_total",
			  "Flow records' addresses by where their origin AS came from (record, "
			  "database)",
			  "counter");
		prom_health_by(f, &rs, "rirmeter_asn_source_total", "source", "asn_source.");
	}
	prom_help(f, "rirmeter_snapshot_info", "The snapshot attributing traffic now", "gauge");
	fputs("rirmeter_snapshot_info{", f);
	prom_label(f, "snapshot", snap_id);
	fputc(',', f);
	prom_label(f, "inputs", snap_inputs);
	fputs("} 1\n", f);
	rm_rows_free(&rs);
}

int rm_render_prom(const struct rm_outputs *o, const struct rm_rows *total,
		   const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		   const char *snap_inputs, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	if (!f)
		return -1;
	prom_text(f, o, total, ports, n_ports, snap_id, snap_inputs);
	return fclose(f) ? -1 : 0;
}

int rm_write_prom(const struct rm_outputs *o, const struct rm_rows *total,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		  const char *snap_inputs)
{
	struct rm_atomic_file a;
	char err[PATH_MAX + 128];
	if (rm_atomic_open(&a, o->prom, 0644, err, sizeof(err))) {
		fprintf(stderr, "rirmeter: %s\n", err);
		return -1;
	}
	prom_text(a.f, o, total, ports, n_ports, snap_id, snap_inputs);
	if (rm_atomic_commit(&a, err, sizeof(err))) {
		fprintf(stderr, "rirmeter: %s\n", err);
		return -1;
	}
	return 0;
}

int rm_write_table(FILE *out, const struct rm_rows *total)
{
	FILE *sink = NULL;
	if (!out) /* the balance only */
		out = sink = fopen("/dev/null", "w");
	if (!out)
		return -1;
	uint64_t p[RM_DIRS][RM_RIR_COUNT] = {{0}}, b[RM_DIRS][RM_RIR_COUNT] = {{0}}, all = 0;
	uint64_t received = 0, attributed = 0, non_ip = 0, mal = 0, flow = 0, not_flow = 0;
	for (uint32_t i = 0; i < total->n; i++) {
		const struct rm_row *r = &total->v[i];
		if (strcmp(r->scope, "rir") == 0) {
			int d = strcmp(r->dir, "src") == 0 ? RM_SRC : RM_DST;
			int k = rm_rir_from_name(r->key, strlen(r->key));
			p[d][k] += r->packets;
			b[d][k] += r->bytes;
		} else if (strcmp(r->scope, "health") == 0) {
			uint64_t *t = strcmp(r->key, "received") == 0	      ? &received
				      : strcmp(r->key, "attributed") == 0     ? &attributed
				      : strcmp(r->key, "non_ip") == 0	      ? &non_ip
				      : strcmp(r->key, "malformed") == 0      ? &mal
				      : strcmp(r->key, "flow_datagrams") == 0 ? &flow
				      : strcmp(r->key, "not_flow") == 0	      ? &not_flow
									      : NULL;
			if (t)
				*t += r->packets;
		}
	}
	for (unsigned k = 0; k < RM_RIR_COUNT; k++)
		all += b[RM_SRC][k] + b[RM_DST][k];
	fprintf(out, "%-9s %12s %12s %12s %12s %7s\n", "registry", "src packets", "src bytes",
		"dst packets", "dst bytes", "share");
	for (unsigned k = 0; k < RM_RIR_COUNT; k++) {
		char t[4][32];
		rm_si_format(t[0], sizeof(t[0]), (double)p[RM_SRC][k], "");
		rm_si_format(t[1], sizeof(t[1]), (double)b[RM_SRC][k], "");
		rm_si_format(t[2], sizeof(t[2]), (double)p[RM_DST][k], "");
		rm_si_format(t[3], sizeof(t[3]), (double)b[RM_DST][k], "");
		fprintf(out, "%-9s %12s %12s %12s %12s %6.1f%%\n", rm_rir_name(k), t[0], t[1], t[2],
			t[3],
			all ? 100.0 * (double)(b[RM_SRC][k] + b[RM_DST][k]) / (double)all : 0.0);
	}
	int ok = received == attributed + non_ip + mal + flow + not_flow;
	fprintf(out,
		"received %" PRIu64 " = attributed %" PRIu64 " + non-IP %" PRIu64
		" + malformed %" PRIu64 "%s",
		received, attributed, non_ip, mal,
		flow || not_flow ? ""
		: ok		 ? "\n"
				 : "   MISMATCH\n");
	if (flow || not_flow)
		fprintf(out, " + flow export %" PRIu64 " + not flow %" PRIu64 "%s\n", flow,
			not_flow, ok ? "" : "   MISMATCH");
	if (sink)
		fclose(sink);
	return ok ? 0 : -1;
}

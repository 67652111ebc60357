/*
 * ipfix_put.c - the inner loop of re-exporting records as received.
 *
 * Compiled twice, as DPDK's lib/fib compiles its vector lookups: for the
 * baseline x86-64 (rm_ipfix_put_sse2) and with -mavx2 (rm_ipfix_put_avx2);
 * rm_ipfix_init picks one at run time.  The C is the same: every move is
 * the assignment of a 32-byte vector, which is two 16-byte moves in the
 * first and one 32-byte move in the second (with GCC's default splitting
 * of unaligned 32-byte moves turned off, as it is for every AVX2 CPU since
 * Haswell).
 *
 * It writes the records of consecutive runs (struct rm_flow_run) into the
 * open data set for as long as nothing needs deciding: each run has the
 * set's template, exporter and sampling interval (the key; a new time base,
 * which each datagram's header brings, is patched into the tail), each
 * record fits the message, and each end is shorter than 64 bytes.  A
 * record that does not fit has the message rolled over (s->roll: sent, and
 * the next one started with the set open) and the loop goes on.  It stops
 * at the first run or record that needs anything else and says which; the
 * caller (ipfix.c) works out templates, announces them and opens sets.
 *
 * A record is copied in 32-byte moves, the last one ending at the record's
 * end (overlapping the one before), so that nothing outside the record is
 * read; records shorter than 32 bytes take two 16-byte moves, and shorter
 * than 16 the caller's slow path.  The tail and the ends are copied in
 * whole 32-byte moves whatever their length (an end of 64 bytes or more
 * goes the slow way): the message buffer has RM_IPFIX_SLACK past its limit
 * and the ends table 64 bytes of padding past its last end, and what lands
 * past a field's length is overwritten by the next field or left past the
 * message's length.
 */
#include <string.h>

#include "ipfix.h"

#ifndef PUT_NAME
#error "PUT_NAME must name the function"
#endif

/* Unaligned 16- and 32-byte vectors that may alias anything: one load and
 * one store per move, no temporary on the stack (as a memcpy through a
 * local array can leave). */
typedef uint8_t v16 __attribute__((vector_size(16), aligned(1), may_alias));
typedef uint8_t v32 __attribute__((vector_size(32), aligned(1), may_alias));

static inline void move16(uint8_t *d, const uint8_t *s)
{
	*(v16 *)d = *(const v16 *)s;
}

static inline void move32(uint8_t *d, const uint8_t *s)
{
	*(v32 *)d = *(const v32 *)s;
}

/* Records by length: 16-31 bytes, 32-64, longer.  The loop over a run is
 * compiled once per class, so that the copy has no decision in it. */
enum { SHORT, MEDIUM, LONG };

/* Copy len bytes of class cls, reading and writing none outside either range. */
static inline __attribute__((always_inline)) void copy_record(uint8_t *d, const uint8_t *s,
							      uint32_t len, int cls)
{
	if (cls == SHORT) {
		move16(d, s);
		move16(d + len - 16, s + len - 16);
		return;
	}
	if (cls == LONG)
		for (uint32_t o = 32; o + 32 < len; o += 32)
			move32(d + o, s + o);
	move32(d, s);
	move32(d + len - 32, s + len - 32);
}

/*
 * A run's records from rec on, until rec_end or the first that does not
 * fit before last or has an end of 64 bytes or more.  An end's entry has
 * its length in the low byte (struct rm_ipfix_ends), so the two entries
 * OR-ed tell whether either is long, and added give the two lengths.
 * Returns where it stopped; *pp and *idsp advance.
 */
static inline __attribute__((always_inline)) const uint8_t *
put_records(uint8_t **pp, const uint8_t *last, const uint8_t *rec, const uint8_t *rec_end,
	    uint32_t len, uint32_t fixed, const v32 *tail, const uint32_t **idsp,
	    const uint64_t *end_at, const uint8_t *bytes, int cls)
{
	uint8_t *p = *pp;
	const uint32_t *ids = *idsp;
	for (; rec < rec_end; rec += len, ids += 2) {
		uint64_t v0 = end_at[ids[0]], v1 = end_at[ids[1]];
		uint32_t both = (uint32_t)(v0 + v1) & 0xff;
		if (((v0 | v1) & 0xc0) || p + both > last)
			break;
		copy_record(p, rec, len, cls);
		*(v32 *)(p + len) = *tail;
		p += fixed;
		const uint8_t *e0 = bytes + (v0 >> 8), *e1 = bytes + (v1 >> 8);
		uint32_t n0 = v0 & 0xff;
		move32(p, e0);
		if ((v0 | v1) & 0x20) {
			move32(p + 32, e0 + 32);
			move32(p + n0 + 32, e1 + 32);
		}
		move32(p + n0, e1);
		p += both;
	}
	*pp = p;
	*idsp = ids;
	return rec;
}

int PUT_NAME(struct rm_ipfix_put *s)
{
	uint8_t *msg = s->msg, *p = msg + s->at;
	const uint8_t *lim = msg + s->max, *bytes = s->ends->bytes;
	const uint64_t *end_at = s->ends->at;
	const uint32_t *ids = s->ids, *ids0 = s->ids;
	const uint32_t tail_len = s->tail_len;
	v32 tail = *(const v32 *)s->tail;
	uint32_t i = s->i, j = s->j;
	int why = RM_PUT_DONE;
	for (; i < s->n_runs; i++, j = 0) {
		const struct rm_flow_run *r = &s->runs[i];
		if (!rm_ipfix_put_same_key(s, &r->m)) {
			why = RM_PUT_NEW_KEY;
			break;
		}
		if (r->m.sysinit_ms != s->sysinit) { /* the next datagram's header */
			rm_ipfix_put_sysinit(s, r->m.sysinit_ms);
			tail = *(const v32 *)s->tail;
		}
		const uint32_t len = r->m.rec_len, fixed = len + tail_len;
		const uint8_t *rec = r->m.rec + (size_t)j * len;
		const uint8_t *rec_end = r->m.rec + (size_t)r->n * len, *last = lim - fixed;
		if (len < 16) {
			why = RM_PUT_SLOW;
			break;
		}
		for (;;) {
			if (len < 32)
				rec = put_records(&p, last, rec, rec_end, len, fixed, &tail, &ids,
						  end_at, bytes, SHORT);
			else if (len <= 64)
				rec = put_records(&p, last, rec, rec_end, len, fixed, &tail, &ids,
						  end_at, bytes, MEDIUM);
			else
				rec = put_records(&p, last, rec, rec_end, len, fixed, &tail, &ids,
						  end_at, bytes, LONG);
			if (rec == rec_end)
				break;
			/* Stopped at rec: when all it needs is the next message, that
			 * is rolled over here, and the run goes on. */
			uint64_t v0 = end_at[ids[0]], v1 = end_at[ids[1]];
			s->at = (uint32_t)(p - msg);
			s->written += (uint32_t)(ids - ids0) / 2;
			ids0 = ids;
			if (((v0 | v1) & 0xc0) ||
			    s->roll(s, fixed + (uint32_t)(v0 & 0xff) + (uint32_t)(v1 & 0xff))) {
				j = (uint32_t)((rec - r->m.rec) / len);
				why = RM_PUT_SLOW;
				goto out;
			}
			msg = s->msg;
			p = msg + s->at;
			lim = msg + s->max;
			last = lim - fixed;
		}
	}
out:
	s->at = (uint32_t)(p - msg);
	s->i = i;
	s->j = j;
	s->ids = ids;
	s->written += (uint32_t)(ids - ids0) / 2;
	return why;
}

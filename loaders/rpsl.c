/*
 * rpsl.c - holder names from the registries' RPSL whois dumps, joined on
 * the blocks.
 *
 * The extended statistics files name a holder by an opaque account id and
 * no registry publishes an id-to-name table, so a name comes from the whois
 * object that describes the very same block:
 *
 *   delegated-ripencc-extended:  ripencc|NL|ipv4|193.0.0.0|2048|...|<id>
 *   ripe.db.inetnum:             inetnum: 193.0.0.0 - 193.0.7.255
 *                                org:     ORG-RIEN1-RIPE
 *   ripe.db.organisation:        organisation: ORG-RIEN1-RIPE
 *                                org-name:     Reseaux IP Europeens ...
 *
 * An inetnum (IPv4, compared as an address range: registry counts need not
 * be powers of two; "a - b", or a CIDR, abbreviated as LACNIC writes it,
 * "200.7.84/23"), inet6num or aut-num object offers its name to the
 * delegated record whose range is exactly the object's.  Objects inside a
 * delegation (assignments to customers) and objects around it (the
 * registry's own /8-level objects) have other ranges and never name it.
 * Where the name comes from, by registry:
 *   RIPE, APNIC, AFRINIC: "org:" -> the organisation object's "org-name:";
 *   LACNIC: the object's own "owner:" (its dump has no organisation
 *   objects); an object with both uses org:.
 *
 * The dumps are large (RIPE's inetnum file is several GB), so they are
 * read last, streamed (stream.c), when the delegated records are known:
 * only objects whose range is a delegated record's are kept, and the
 * organisation objects (a handle and a name each), so memory grows with
 * the delegations and the organisations, not with the dump.
 *
 * The format: objects are runs of "attribute: value" lines separated by
 * blank lines; "%" and "#" lines are comments; a line that starts with a
 * space, a tab or "+" continues the previous attribute's value; "#" in a
 * range or handle starts a comment ("source: RIPE # Filtered").
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "output.h"

enum obj_class { OBJ_OTHER, OBJ_INETNUM, OBJ_INET6NUM, OBJ_AUTNUM, OBJ_ORG };

/* Attribute values are cut to what a name may hold (and more): a longer
 * range or handle is malformed anyway, a longer name is cut at a
 * character boundary. */
#define VAL_MAX 512

struct val {
	char s[VAL_MAX];
	size_t len;
	int set;
};

struct object {
	unsigned line;
	int cls; /* enum obj_class; -1 before the first attribute */
	struct val key, org, owner, org_name;
	struct val *last; /* the value a continuation line adds to */
};

/* An object whose range matched, waiting for its organisation's name. */
struct pending {
	rm_u128 first, last;
	uint32_t family, handle, input, line;
};

struct org {
	uint32_t handle, name, input, line;
};

struct join {
	struct rl_build *b;
	struct pending *pend;
	uint32_t n_pend, pend_cap;
	struct org *orgs;
	uint32_t n_orgs, orgs_cap;
	unsigned unmatched_org; /* matched objects whose org: no dump defines */
};

int rl_defer_rpsl(struct rl_build *b, const char *name, const char *path, const char *data,
		  size_t len)
{
	RM_GROW_OR_DIE(&b->deferred, &b->deferred_cap, b->n_deferred, 1, 8);
	struct rl_deferred *d = &b->deferred[b->n_deferred];
	memset(d, 0, sizeof(*d));
	d->input = rl_new_input(b, name, RM_IN_HOLDERS_RPSL);
	if (path) {
		d->path = strdup(path);
		if (!d->path)
			rm_out_of_memory();
	} else {
		d->data = malloc(len ? len : 1);
		if (!d->data)
			rm_out_of_memory();
		memcpy(d->data, data, len);
		d->len = len;
	}
	b->n_deferred++;
	return 0;
}

static void val_set(struct val *v, struct rl_span s)
{
	v->len = s.len < VAL_MAX ? s.len : rm_utf8_cut(s.s, VAL_MAX - 1);
	memcpy(v->s, s.s, v->len);
	v->set = 1;
}

/* A continuation line: one space, then its text. */
static void val_add(struct val *v, struct rl_span s)
{
	if (v->len && s.len && v->len + 1 < VAL_MAX)
		v->s[v->len++] = ' ';
	size_t room = VAL_MAX - 1 - v->len;
	size_t n = s.len <= room ? s.len : rm_utf8_cut(s.s, room);
	memcpy(v->s + v->len, s.s, n);
	v->len += n;
}

/* The value up to an end-of-line "#" comment, trimmed. */
static struct rl_span uncommented(const struct val *v)
{
	const char *h = memchr(v->s, '#', v->len);
	return rl_trim((struct rl_span){v->s, h ? (size_t)(h - v->s) : v->len});
}

/* "a.b.c.d - e.f.g.h", or a CIDR whose address may leave out trailing
 * zero octets ("200.7.84/23", LACNIC). */
static int parse_inetnum(struct rl_span s, rm_u128 *first, rm_u128 *last, const char **why)
{
	const char *dash = memchr(s.s, '-', s.len);
	if (dash) {
		struct rl_span a = rl_trim((struct rl_span){s.s, (size_t)(dash - s.s)});
		struct rl_span z =
		    rl_trim((struct rl_span){dash + 1, s.len - (size_t)(dash - s.s) - 1});
		uint32_t x, y;
		if (rl_parse_v4(a.s, a.len, &x) || rl_parse_v4(z.s, z.len, &y)) {
			*why = "not an IPv4 range";
			return -1;
		}
		if (x > y) {
			*why = "range ends before it starts";
			return -1;
		}
		*first = x;
		*last = y;
		return 0;
	}
	const char *slash = memchr(s.s, '/', s.len);
	if (!slash) {
		*why = "neither 'a - b' nor a CIDR";
		return -1;
	}
	char buf[64];
	size_t alen = (size_t)(slash - s.s), plen_len = s.len - alen;
	unsigned dots = 0;
	for (size_t i = 0; i < alen; i++)
		dots += s.s[i] == '.';
	if (alen + 6 + plen_len >= sizeof(buf) || dots > 3) {
		*why = "not an IPv4 CIDR";
		return -1;
	}
	memcpy(buf, s.s, alen);
	size_t n = alen;
	for (; dots < 3; dots++) {
		memcpy(buf + n, ".0", 2);
		n += 2;
	}
	memcpy(buf + n, slash, plen_len);
	n += plen_len;
	unsigned fam, plen;
	if (rl_parse_prefix(buf, n, &fam, first, last, &plen, why) || fam != RM_V4) {
		if (fam != RM_V4)
			*why = "not an IPv4 CIDR";
		return -1;
	}
	return 0;
}

/* The object's range, parsed; -1 with a reason. */
static int object_range(const struct object *o, unsigned *family, rm_u128 *first, rm_u128 *last,
			const char **why)
{
	struct rl_span v = uncommented(&o->key);
	unsigned plen;
	uint32_t asn;
	switch (o->cls) {
	case OBJ_INETNUM:
		*family = RM_V4;
		return parse_inetnum(v, first, last, why);
	case OBJ_INET6NUM:
		if (rl_parse_prefix(v.s, v.len, family, first, last, &plen, why))
			return -1;
		if (*family != RM_V6) {
			*why = "not an IPv6 prefix";
			return -1;
		}
		return 0;
	default: /* OBJ_AUTNUM */
		if (rl_parse_asn(v.s, v.len, &asn)) {
			*why = "not an AS number";
			return -1;
		}
		*family = RM_ASN;
		*first = *last = asn;
		return 0;
	}
}

static uint32_t pool_span(struct rl_build *b, struct rl_span s)
{
	return rl_pool_add(&b->pool, s.s, s.len);
}

static void flush(struct join *j, const char *name, uint32_t input, struct object *o,
		  unsigned *records)
{
	struct rl_build *b = j->b;
	if (o->cls == OBJ_ORG) {
		struct rl_span h = uncommented(&o->key),
			       nm = rl_trim((struct rl_span){o->org_name.s, o->org_name.len});
		(*records)++;
		if (h.len == 0 || nm.len == 0)
			rl_error(b, name, o->line, "organisation object without %s",
				 h.len ? "org-name" : "a handle");
		else if (rl_text_ok(b, name, o->line, "organisation handle", h, 0) &&
			 rl_text_ok(b, name, o->line, "org-name", nm, 0)) {
			RM_GROW_OR_DIE(&j->orgs, &j->orgs_cap, j->n_orgs, 1, 4096);
			j->orgs[j->n_orgs++] =
			    (struct org){pool_span(b, h), pool_span(b, nm), input, o->line};
		}
	} else if (o->cls != OBJ_OTHER && o->cls >= 0) {
		unsigned family;
		rm_u128 first, last;
		const char *why;
		uint32_t pos;
		(*records)++;
		if (object_range(o, &family, &first, &last, &why)) {
			rl_error(b, name, o->line, "%s in '%.*s'", why, (int)o->key.len, o->key.s);
		} else if (rl_range_find(b, family, first, last, &pos)) {
			struct rl_span org = uncommented(&o->org);
			struct rl_span owner = rl_trim((struct rl_span){o->owner.s, o->owner.len});
			if (org.len) {
				if (rl_text_ok(b, name, o->line, "org handle", org, 0)) {
					RM_GROW_OR_DIE(&j->pend, &j->pend_cap, j->n_pend, 1, 4096);
					j->pend[j->n_pend++] = (struct pending){
					    first, last, family, pool_span(b, org), input, o->line};
				}
			} else if (owner.len && rl_text_ok(b, name, o->line, "owner", owner, 0)) {
				struct rl_name n = {.key_kind = RL_BY_RANGE,
						    .family = family,
						    .first = first,
						    .last = last,
						    .name = pool_span(b, owner),
						    .source = RM_NAME_RPSL,
						    .input = input,
						    .line = o->line};
				rl_add_name(b, &n);
			}
		}
	}
	o->cls = -1;
	o->line = 0;
	o->key.set = o->org.set = o->owner.set = o->org_name.set = 0;
	o->key.len = o->org.len = o->owner.len = o->org_name.len = 0;
	o->last = NULL;
}

static int key_is(struct rl_span k, const char *lit, size_t n)
{
	return k.len == n && strncasecmp(k.s, lit, n) == 0;
}
#define KEY_IS(k, lit) key_is(k, lit, sizeof(lit) - 1)

static void read_dump(struct join *j, struct rl_stream *s, uint32_t input)
{
	struct rl_build *b = j->b;
	const char *name = s->name;
	struct object o;
	struct rl_span line;
	unsigned records = 0;
	memset(&o, 0, sizeof(o));
	o.cls = -1;
	while (rl_stream_line(s, &line)) {
		if (line.len == 0) {
			if (o.cls != -1)
				flush(j, name, input, &o, &records);
			continue;
		}
		char c = line.s[0];
		if (c == '%' || c == '#')
			continue;
		if (c == ' ' || c == '\t' || c == '+') {
			if (o.last)
				val_add(o.last,
					rl_trim((struct rl_span){line.s + 1, line.len - 1}));
			continue;
		}
		if (o.cls == OBJ_OTHER) {
			o.last = NULL;
			continue; /* nothing of it is kept: not even parsed */
		}
		const char *colon = memchr(line.s, ':', line.len);
		if (!colon) {
			rl_error(b, name, s->lineno, "not an RPSL 'attribute: value' line");
			o.last = NULL;
			continue;
		}
		struct rl_span key = {line.s, (size_t)(colon - line.s)};
		struct rl_span val =
		    rl_trim((struct rl_span){colon + 1, line.len - (size_t)(colon - line.s) - 1});
		o.last = NULL;
		if (o.cls == -1) {
			o.line = s->lineno;
			if (KEY_IS(key, "inetnum"))
				o.cls = OBJ_INETNUM;
			else if (KEY_IS(key, "inet6num"))
				o.cls = OBJ_INET6NUM;
			else if (KEY_IS(key, "aut-num"))
				o.cls = OBJ_AUTNUM;
			else if (KEY_IS(key, "organisation"))
				o.cls = OBJ_ORG;
			else
				o.cls = OBJ_OTHER;
			if (o.cls != OBJ_OTHER) {
				val_set(&o.key, val);
				o.last = &o.key;
			}
			continue;
		}
		struct val *v = NULL;
		if (o.cls == OBJ_ORG) {
			if (KEY_IS(key, "org-name"))
				v = &o.org_name;
		} else if (KEY_IS(key, "org")) {
			v = &o.org;
		} else if (KEY_IS(key, "owner")) {
			v = &o.owner;
		}
		if (v && !v->set) { /* the first of a repeated attribute */
			val_set(v, val);
			o.last = v;
		}
	}
	if (o.cls != -1)
		flush(j, name, input, &o, &records);
	if (s->long_lines)
		rl_error(b, name, s->long_line_at,
			 "%u line%s of %u MiB or more, not read (the first here)", s->long_lines,
			 s->long_lines == 1 ? "" : "s", RL_STREAM_LINE_MAX >> 20);
	if (s->error)
		rl_error(b, name, s->lineno, "%s", s->error);
	rm_model_input_at(b->model, input)->records = records;
}

static const struct rl_pool *g_pool; /* for qsort comparators only */

static int org_cmp(const void *pa, const void *pb)
{
	const struct org *a = pa, *b = pb;
	int c = strcmp(rl_pool_str(g_pool, a->handle), rl_pool_str(g_pool, b->handle));
	if (c)
		return c;
	if (a->input != b->input)
		return a->input < b->input ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static const struct org *find_org(const struct join *j, const char *handle)
{
	uint32_t lo = 0, hi = j->n_orgs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (strcmp(rl_pool_str(g_pool, j->orgs[mid].handle), handle) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < j->n_orgs && strcmp(rl_pool_str(g_pool, j->orgs[lo].handle), handle) == 0)
		return &j->orgs[lo]; /* the first in input order */
	return NULL;
}

void rl_rpsl_join(struct rl_build *b)
{
	struct join j = {.b = b};
	for (uint32_t i = 0; i < b->n_deferred; i++) {
		struct rl_deferred *d = &b->deferred[i];
		const char *name =
		    rm_model_str(b->model, rm_model_input_at(b->model, d->input)->name);
		struct rl_stream s;
		if (d->path) {
			if (rl_stream_open_file(&s, d->path)) {
				rl_error(b, name, 0, "cannot open: %s", s.error);
				b->failed_io = 1;
				continue;
			}
			s.name = name;
		} else {
			rl_stream_open_mem(&s, name, d->data, d->len);
		}
		read_dump(&j, &s, d->input);
		rl_stream_close(&s);
	}
	g_pool = &b->pool;
	if (j.n_orgs) /* qsort wants a pointer even for no elements */
		qsort(j.orgs, j.n_orgs, sizeof(*j.orgs), org_cmp);
	for (uint32_t i = 0; i < j.n_pend; i++) {
		const struct pending *p = &j.pend[i];
		const struct org *o = find_org(&j, rl_pool_str(&b->pool, p->handle));
		if (!o) {
			j.unmatched_org++;
			continue;
		}
		struct rl_name n = {.key_kind = RL_BY_RANGE,
				    .family = p->family,
				    .first = p->first,
				    .last = p->last,
				    .name = o->name,
				    .source = RM_NAME_RPSL,
				    .input = p->input,
				    .line = p->line};
		rl_add_name(b, &n);
	}
	if (j.unmatched_org)
		rl_notice(b, "rirdb", 0,
			  "%u whois objects on delegated blocks name an organisation that no "
			  "dump given defines; they name nothing",
			  j.unmatched_org);
	free(j.pend);
	free(j.orgs);
}

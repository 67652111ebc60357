/*
 * fuzz_scan.c - libFuzzer harness for the text scanner: the validator
 * (rl_scan_token) on the input as one token with neighbours taken from the
 * first byte, and the whole stream scanner (Hyperscan and the vector
 * candidate finder) fed the input in two pieces cut where the first byte
 * says, which must find exactly what it finds when fed in one piece.
 */
#include <stdlib.h>
#include <string.h>

#include "scanner.h"

struct found {
	uint64_t n, sum;
};

static void on_found(void *ctx, const struct rl_found *f)
{
	struct found *x = ctx;
	x->n++;
	x->sum += f->offset * 31 + f->len + (f->v6 ? f->v6addr[15] : f->v4);
}

static struct found scan(struct rl_scanner *s, const char *p, size_t len, size_t cut)
{
	struct found x = {0, 0};
	if (rl_scanner_feed(s, p, cut, on_found, &x) ||
	    rl_scanner_feed(s, p + cut, len - cut, on_found, &x) || rl_scanner_end(s, on_found, &x))
		abort();
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rl_scan_db *db;
	static struct rl_scanner *s;
	char err[256];
	if (!db && (!(db = rl_scan_db_new(err, sizeof(err))) ||
		    !(s = rl_scanner_new(db, err, sizeof(err)))))
		abort();
	if (size < 1)
		return 0;
	size_t len = size - 1;
	char *p = malloc(len ? len : 1);
	if (!p)
		abort();
	memcpy(p, data + 1, len);
	struct rl_found f;
	int left = data[0] & 1 ? ' ' : -1, right = data[0] & 2 ? ',' : -1;
	rl_scan_token(p, len, left, right, &f);
	size_t cut = len ? data[0] % (len + 1) : 0;
	struct found one = scan(s, p, len, len), two = scan(s, p, len, cut);
	if (one.n != two.n || one.sum != two.sum)
		abort(); /* a cut between reads changed what was found */
	free(p);
	return 0;
}

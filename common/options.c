/*
 * options.c - numeric option values by one policy (see options.h).
 *
 * The syntax is checked character by character before any conversion, so
 * that what strtoul and strtod would quietly accept (space, a sign, "0x",
 * an exponent, "inf", a tail) never reaches them.  Whole numbers are then
 * accumulated here with an overflow check; decimals go to strtod, which
 * rounds correctly, and which reads '.' as the decimal point because no
 * program of this project calls setlocale.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "options.h"

int rm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	if (!s)
		s = "";
	uint64_t v = 0;
	int overflow = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = 1;
		else
			v = v * 10 + d;
	}
	if (p == s || *p) {
		snprintf(err, errlen, "'%s' is not a whole number", s);
		return -1;
	}
	if (overflow || v < min || v > max) {
		snprintf(err, errlen, "%s is out of range %llu..%llu", s, (unsigned long long)min,
			 (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int rm_parse_decimal(const char *s, double min, double max, double *out, char *err, size_t errlen)
{
	if (!s)
		s = "";
	const char *p = s;
	size_t digits = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (digits == 0 || *p) {
		snprintf(err, errlen, "'%s' is not a non-negative number", s);
		return -1;
	}
	char *end;
	double v = strtod(s, &end);
	/* Digits alone cannot make nan; a run of them long enough gives inf. */
	if (*end) {
		snprintf(err, errlen, "'%s' is not a non-negative number", s);
		return -1;
	}
	if (!(v >= min && v <= max)) {
		snprintf(err, errlen, "%s is out of range %.15g..%.15g", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int rm_opt_u64(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	char err[256];
	if (rm_parse_u64(s, min, max, out, err, sizeof(err))) {
		fprintf(stderr, "%s: %s: %s\n", prog, opt, err);
		return -1;
	}
	return 0;
}

int rm_opt_uint(const char *prog, const char *opt, const char *s, unsigned min, unsigned max,
		unsigned *out)
{
	uint64_t v;
	if (rm_opt_u64(prog, opt, s, min, max, &v))
		return -1;
	*out = (unsigned)v;
	return 0;
}

int rm_opt_decimal(const char *prog, const char *opt, const char *s, double min, double max,
		   double *out)
{
	char err[256];
	if (rm_parse_decimal(s, min, max, out, err, sizeof(err))) {
		fprintf(stderr, "%s: %s: %s\n", prog, opt, err);
		return -1;
	}
	return 0;
}

unsigned rm_default_threads(long online, unsigned max)
{
	if (online < 1)
		return 1;
	return (unsigned long)online > max ? max : (unsigned)online;
}

unsigned rm_interface_workers(long online, unsigned max, unsigned queues)
{
	unsigned n = rm_default_threads(online, max);
	return queues && queues < n ? queues : n;
}

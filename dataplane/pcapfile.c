/*
 * pcapfile.c - how many packets a classic pcap file holds.
 *
 * net_pcap reads capture files through libpcap and, at the end of a file,
 * simply returns no more packets: it cannot say "done".  rirmeter counts
 * the records itself beforehand, so that it can stop exactly after the
 * last one and check that every packet was received.  Classic pcap only
 * (both byte orders, micro- and nanosecond magic); for anything else the
 * caller falls back to stopping on an idle timeout.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "pcapfile.h"

long long rm_pcap_count(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	unsigned char gh[24];
	long long n = -1;
	if (fread(gh, 1, sizeof(gh), f) != sizeof(gh)) {
		snprintf(err, errlen, "%s: shorter than a pcap header", path);
		goto out;
	}
	uint32_t magic;
	memcpy(&magic, gh, 4);
	int swapped;
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
		swapped = 0;
	else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
		swapped = 1;
	else {
		snprintf(err, errlen, "%s: not a classic pcap file", path);
		goto out;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f), pos = 24;
	fseek(f, 24, SEEK_SET);
	n = 0;
	unsigned char rh[16];
	while (fread(rh, 1, sizeof(rh), f) == sizeof(rh)) {
		uint32_t incl;
		memcpy(&incl, rh + 8, 4);
		if (swapped)
			incl = rm_bswap32(incl);
		pos += 16 + (long)incl;
		if (pos > size || fseek(f, pos, SEEK_SET) != 0)
			break; /* a truncated last record: libpcap stops there too */
		n++;
	}
out:
	fclose(f);
	return n;
}

/*
 * pcapfile.h - counting the packets of the capture files that net_pcap
 * reads (pcapfile.c), so that rirmeter knows when a capture has been read
 * whole.
 */
#ifndef RM_PCAPFILE_H
#define RM_PCAPFILE_H

#include <stddef.h>

/* Packets in a pcap file, or -1 with a reason. */
long long rm_pcap_count(const char *path, char *err, size_t errlen);

#endif

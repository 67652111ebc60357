/*
 * rirdb.h - the rirdb tool's commands that live in files of their own.
 */
#ifndef RIRDB_H
#define RIRDB_H

/* rirdb diff [--format table|json] [--details] OLD NEW */
int rirdb_diff(int argc, char **argv);
/* rirdb fetch [--dir DIR] [--base-url URL] ... (fetch.c) */
int rirdb_fetch(int argc, char **argv);
/* rirdb report -o report.html JSONL... (report.c) */
int rirdb_report(int argc, char **argv);
/* rirdb scan -d FILE [--json PATH] [--csv PATH] [--distinct] [PATH...] (scan.c) */
int rirdb_scan(int argc, char **argv);

#endif

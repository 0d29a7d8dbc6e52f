/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A view's rows as a pprof profile (github.com/google/pprof/proto/profile.proto,
 * gzip-compressed), for `go tool pprof` and everything else that reads it:
 * flame graphs, -diff_base between two reports. The stacks are the rows' display
 * stacks (report/view.c), one Location per pc with its inlined frames as lines.
 */
#ifndef LEAKSCOPE_REPORT_PPROF_H
#define LEAKSCOPE_REPORT_PPROF_H

#include "report/report.h"

/* Write one view's rows (all of vr->n, not only the shown ones) as a gzip-compressed
 * profile.proto at path. Returns 0 or -errno. */
int pprof_write_view(const struct report_ctx *rc, const struct view_rows *vr, const char *path);

#endif

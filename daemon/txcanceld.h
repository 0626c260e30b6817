/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The daemon's main loop (txcanceld.c) and its options (config.c): above
 * every layer (state.h lists them).
 */
#ifndef TXCD_H
#define TXCD_H

#include "lease_actions.h"
#include "server.h"

/* --- config.c ------------------------------------------------------------- */
int txcd_parse_args(struct txcd *d, int argc, char **argv);

#endif

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The top: the listening socket and the client connections' lives
 * (server.c), and serving each connection (server_conn.c), which hands each
 * validated request to its handler (requests.h).
 */
#ifndef TXCD_SERVER_H
#define TXCD_SERVER_H

#include "state.h"

/* --- server.c: connections ------------------------------------------------ */
/* Refuse to start if another daemon serves the socket path; before anything else. */
int txcd_server_claim(struct txcd *d);
int txcd_server_open(struct txcd *d);
void txcd_server_close(struct txcd *d);
void txcd_server_accept(struct txcd *d);
/* Listen again after running out of descriptors; on the tick. */
void txcd_server_resume(struct txcd *d);
void txcd_reap_dead(struct txcd *d);

/* --- server_conn.c: serving one connection --------------------------------- */
/* The connection's fd is ready: read requests, send what waits. */
void txcd_conn_event(struct txcd *d, __u32 conn_id, __u32 events);
/* Registered as d->park: how the layers below answer a parked request. */
extern const struct txcd_park_ops txcd_server_park_ops;

#endif

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "daemon_fixture.h"
#include "forked_client.h"
#include "testlib.h"

static void on_batch(void *ctx, const struct txc_ev_completions *ev,
		     const struct txc_abort_record *recs)
{
	struct wlog *log = ctx;

	for (__u32 i = 0; i < ev->count; i++) {
		if (recs[i].source != ev->source)
			log->mismatched++;
		if (log->n == MAX_RECS)
			log->overflow++;
		else
			log->recs[log->n++] = recs[i];
	}
}

/* Read completions until the log holds @want, then look QUIET_MS for more. */
static int worker_collect(struct txc_client *c, struct wlog *log, int want)
{
	__u64 end = test_now_ms() + 3000;
	int n;

	while (log->n < want && test_now_ms() < end) {
		n = txc_read_completions(c, on_batch, log, (int)(end - test_now_ms()) + 1);
		if (n < 0)
			return n;
	}
	n = txc_read_completions(c, on_batch, log, QUIET_MS);
	return n < 0 ? n : log->n;
}

static int worker_tag(struct txc_client *c, const struct wreq *rq, struct wrep *rp)
{
	switch (rq->kind) {
	case TXC_TAG_SOCKET:
		return txc_tag_socket(c, rq->fd, rq->id, rq->source, &rp->cookie);
	case TXC_TAG_MARK:
		return txc_tag_mark(c, rq->key.mark, rq->id, rq->source);
	case TXC_TAG_CGROUP:
		return txc_tag_cgroup(c, rq->key.cgroup_id, rq->id, rq->source);
	default:
		return txc_tag_flow(c, &rq->key.flow, rq->id, rq->source);
	}
}

static int worker_do(struct client *cl, struct txc_client **cp, const struct wreq *rq,
		     struct wrep *rp)
{
	struct txc_client *c = *cp;
	__u8 prefix = 0;
	int ret;

	if (rq->op == W_CONNECT) {
		/* Also a reconnect: the old connection may be dead with its daemon. */
		txc_client_close(c);
		*cp = NULL;
		ret = txc_client_open(cp, cl->sock);
		if (ret)
			snprintf(rp->error, sizeof(rp->error), "%s", txc_last_error());
		return ret;
	}
	if (rq->op == W_QUIT)
		return 0;
	if (!c) {
		snprintf(rp->error, sizeof(rp->error), "not connected");
		return -ENOTCONN;
	}
	switch (rq->op) {
	case W_PREFIX_ALLOC:
		ret = txc_generate_partial_cancel_id(c, &prefix);
		rp->value = prefix;
		break;
	case W_PREFIX_CLAIM:
		ret = txc_prefix_claim(c, rq->value);
		break;
	case W_SOURCE_OPEN:
		ret = txc_source_open(c, &rp->value);
		break;
	case W_SOURCE_CLAIM:
		ret = txc_source_claim(c, rq->value);
		break;
	case W_TAG:
		ret = worker_tag(c, rq, rp);
		break;
	case W_UNTAG:
		ret = txc_untag(c, rq->kind, &rq->key);
		break;
	case W_COUNT_ID:
		ret = txc_count_id(c, rq->value, 1);
		break;
	case W_CANCEL:
		ret = txc_cancel(c, rq->scope, rq->value, NULL, 0, NULL);
		break;
	case W_CLEAR:
		ret = txc_clear(c, rq->scope, rq->value, &rp->final);
		break;
	case W_SUBSCRIBE:
		ret = txc_subscribe(c, rq->value);
		break;
	case W_STATS:
		ret = txc_stats(c, TXC_SCOPE_SOURCE, rq->value, &rp->stats, 1);
		ret = ret == 1 ? 0 : ret < 0 ? ret : -ENODATA;
		break;
	case W_ACCOUNT:
		ret = txc_source_account(c, rq->value, &rp->acct);
		break;
	case W_COLLECT:
		ret = worker_collect(c, cl->log, rq->want);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret < 0)
		snprintf(rp->error, sizeof(rp->error), "%s", txc_client_error(c));
	return ret;
}

/* The client's process, as its user: serve the test's requests until W_QUIT or EOF. */
static int worker_main(void *arg)
{
	struct client *cl = arg;
	struct txc_client *c = NULL;
	struct wreq rq;
	struct wrep rp;

	while (recv(cl->cmd, &rq, sizeof(rq), 0) == sizeof(rq)) {
		memset(&rp, 0, sizeof(rp));
		rp.ret = worker_do(cl, &c, &rq, &rp);
		if (send(cl->cmd, &rp, sizeof(rp), MSG_NOSIGNAL) != sizeof(rp) || rq.op == W_QUIT)
			break;
	}
	txc_client_close(c);
	return 0;
}

/*
 * Keep only what the client needs: its end of the socketpair and @keep (the
 * senders it tags by socket).  Anything else, a connection of root's or of
 * another client, would otherwise live on in this process.
 */
static void close_all_but(int cmd, const int *keep, int n_keep)
{
	for (int fd = 3; fd < 1024; fd++) {
		bool kept = fd == cmd;

		for (int i = 0; i < n_keep; i++)
			kept |= fd == keep[i];
		if (!kept)
			close(fd);
	}
}

int cl_call(struct client *cl, const struct wreq *rq, struct wrep *rp)
{
	struct pollfd p = { .fd = cl->cmd, .events = POLLIN };

	memset(rp, 0, sizeof(*rp));
	if (cl->cmd < 0 || send(cl->cmd, rq, sizeof(*rq), MSG_NOSIGNAL) != sizeof(*rq)) {
		snprintf(rp->error, sizeof(rp->error), "%s: the client process is gone", cl->name);
		return rp->ret = -EPIPE;
	}
	if (poll(&p, 1, CALL_MS) <= 0) {
		snprintf(rp->error, sizeof(rp->error), "%s: no reply in %d ms", cl->name, CALL_MS);
		return rp->ret = -ETIMEDOUT;
	}
	if (recv(cl->cmd, rp, sizeof(*rp), 0) != sizeof(*rp)) {
		snprintf(rp->error, sizeof(rp->error), "%s: the client process is gone", cl->name);
		return rp->ret = -EPIPE;
	}
	return rp->ret;
}

/* A call that must succeed; the failure shows the daemon's sentence. */
bool cl_ok(struct client *cl, const struct wreq *rq, struct wrep *rp, const char *what)
{
	char full[160];

	snprintf(full, sizeof(full), "%s: %s", cl->name, what);
	if (cl_call(cl, rq, rp) >= 0)
		return true;
	ASSERT_OK(rp->ret, full);
	printf("    %s: %s\n", cl->name, rp->error);
	return false;
}

/* A call that must fail with @err and say why. */
bool cl_refused(struct client *cl, const struct wreq *rq, int err, const char *what)
{
	char full[160];
	struct wrep rp;

	snprintf(full, sizeof(full), "%s: %s", cl->name, what);
	cl_call(cl, rq, &rp);
	return ASSERT_EQ(rp.ret, err, full) && ASSERT_TRUE(rp.error[0] != '\0', "an error text");
}

bool cl_start(struct client *cl, const char *name, uid_t uid, const char *sock,
	      const int *keep, int n_keep)
{
	struct wreq rq = { .op = W_CONNECT };
	struct wrep rp;
	int sv[2];
	pid_t pid;

	memset(cl, 0, sizeof(*cl));
	cl->name = name;
	cl->uid = uid;
	cl->cmd = -1;
	snprintf(cl->sock, sizeof(cl->sock), "%s", sock);
	cl->log = mmap(NULL, sizeof(*cl->log), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ASSERT_TRUE(cl->log != MAP_FAILED, "shared memory for the client's log")) {
		cl->log = NULL;
		return false;
	}
	if (!ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ? -errno : 0,
		       "socketpair"))
		return false;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		/* Not the test: no cleanup handlers, and gone with the test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		close_all_but(sv[1], keep, n_keep);
		cl->cmd = sv[1];
		_exit(txct_run_as(uid, uid, true, worker_main, cl) == 0 ? 0 : 1);
	}
	close(sv[1]);
	if (!ASSERT_GE0(pid, "fork of a client")) {
		close(sv[0]);
		return false;
	}
	cl->pid = pid;
	cl->cmd = sv[0];
	return cl_ok(cl, &rq, &rp, "connecting");
}

/* End the client's process (its connection closes with it) and wait for it. */
void cl_stop(struct client *cl)
{
	struct wreq rq = { .op = W_QUIT };
	struct wrep rp;
	__u64 end;

	if (cl->pid > 0) {
		cl_call(cl, &rq, &rp);
		end = test_now_ms() + 3000;
		while (waitpid(cl->pid, NULL, WNOHANG) == 0) {
			if (test_now_ms() > end) {
				kill(cl->pid, SIGKILL);
				waitpid(cl->pid, NULL, 0);
				break;
			}
			test_sleep_ms(10);
		}
		cl->pid = 0;
	}
	if (cl->cmd >= 0)
		close(cl->cmd);
	cl->cmd = -1;
	if (cl->log)
		munmap(cl->log, sizeof(*cl->log));
	cl->log = NULL;
}

/* Forget what the client received so far (it is idle between requests). */
void cl_log_reset(struct client *cl)
{
	memset(cl->log, 0, offsetof(struct wlog, recs));
}

/* Read completions until @want are in the log; returns how many are. */
int cl_collect(struct client *cl, int want)
{
	struct wreq rq = { .op = W_COLLECT, .want = want };
	struct wrep rp;

	if (cl_call(cl, &rq, &rp) < 0) {
		printf("    %s: reading completions: %s\n", cl->name, rp.error);
		return rp.ret;
	}
	return cl->log->n;
}

bool cl_simple(struct client *cl, int op, int scope, __u32 value, struct wrep *rp,
	       const char *what)
{
	struct wreq rq = { .op = op, .scope = scope, .value = value };
	struct wrep tmp;

	return cl_ok(cl, &rq, rp ? rp : &tmp, what);
}

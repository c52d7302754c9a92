/*
 * backup: a consistent copy of the store, sent to smmctl on the control
 * connection right after the reply ({bytes, sha256, taken}), the way
 * redis-cli --rdb or etcdctl snapshot save get theirs. smmctl writes the
 * file as the user who asked: under the shipped unit smmd itself may
 * write only its state directory, and a path chosen by a client is not a
 * place a daemon should write anyway.
 *
 * The copy is made on a worker thread into state_dir/backup.tmp (one at a
 * time), checked, opened and unlinked there, so a crash leaves at most
 * that one file, reused by the next backup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "command.h"
#include "config.h"
#include "log.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

struct backup_job {
	uv_work_t work;
	struct smmd *d;
	struct cmd_later *later;
	char path[4096];
	int fd;
	uint64_t bytes;
	char sha256[2 * 32 + 1];
	int64_t taken_ms;
	uint64_t took_ms;
	char err[512];
};

/* SHA-256 of the open file, for smmctl to check what it received. */
static int file_sha256(int fd, char hex[2 * 32 + 1], uint64_t *bytes)
{
	unsigned char buf[64 * 1024], md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	ssize_t n;
	int ret = -1;

	*bytes = 0;
	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			goto out;
		*bytes += (uint64_t)n;
	}
	if (n < 0 || !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32 ||
	    lseek(fd, 0, SEEK_SET) != 0)
		goto out;
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* The worker thread: copy, check, open, unlink, hash. */
static void backup_work(uv_work_t *w)
{
	struct backup_job *j = w->data;
	char journal[sizeof(j->path) + 16];
	uint64_t t0 = uv_hrtime();

	snprintf(journal, sizeof(journal), "%s-journal", j->path);
	/* What a crash in the middle of an earlier backup left. */
	unlink(j->path);
	unlink(journal);
	j->taken_ms = wallclock_now_ms();
	if (store_backup(j->d->store, j->path, j->err, sizeof(j->err)) < 0)
		goto bad;
	if ((j->fd = open(j->path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(j->err, sizeof(j->err), "cannot open the copy: %s",
		         strerror(errno));
		goto bad;
	}
	unlink(j->path);
	if (file_sha256(j->fd, j->sha256, &j->bytes) < 0) {
		snprintf(j->err, sizeof(j->err), "cannot read the copy: %s",
		         strerror(errno));
		close(j->fd);
		j->fd = -1;
	}
	j->took_ms = (uv_hrtime() - t0) / 1000000;
	return;
bad:
	unlink(j->path);
	unlink(journal);
}

static void backup_done(uv_work_t *w, int status)
{
	struct backup_job *j = w->data;
	char when[TIME_RFC3339_LEN];
	json_t *result;

	j->d->backing_up = 0;
	if (status < 0 || j->fd < 0) {
		log_error("backup: %s", status < 0 ? "cancelled" : j->err);
		j->later->finish(j->later, NULL, SMM_ERR_INTERNAL,
		                 status < 0 ? "the backup was cancelled"
		                            : j->err);
		free(j);
		return;
	}
	result = json_pack("{sI ss ss sI}", "bytes", (json_int_t)j->bytes,
	                   "sha256", j->sha256, "taken",
	                   time_format_rfc3339(j->taken_ms, when), "ms",
	                   (json_int_t)j->took_ms);
	if (result == NULL ||
	    j->later->finish_file(j->later, result, j->fd, j->bytes) < 0) {
		json_decref(result);
		close(j->fd);
		j->later->finish(j->later, NULL, SMM_ERR_CONFLICT,
		                 "this connection has other replies or events "
		                 "coming: ask for a backup on a connection of "
		                 "its own");
	} else {
		log_info("backup: %llu bytes, the store as of %s, made in "
		         "%llu ms",
		         (unsigned long long)j->bytes, when,
		         (unsigned long long)j->took_ms);
	}
	free(j);
}

static enum cmd_retval cmd_backup(struct cmd_ctx *x)
{
	struct backup_job *j;
	int r;

	if (x->later == NULL || x->later->finish_file == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL,
		                "backup needs a connection to answer on");
	if (x->d->backing_up)
		return cmd_fail(x, SMM_ERR_CONFLICT,
		                "a backup is under way already");
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	j->d = x->d;
	j->later = x->later;
	j->fd = -1;
	j->work.data = j;
	snprintf(j->path, sizeof(j->path), "%s/backup.tmp",
	         x->d->cfg->state_dir);
	if ((r = uv_queue_work(x->d->loop, &j->work, backup_work,
	                       backup_done)) < 0) {
		free(j);
		return cmd_fail(x, SMM_ERR_INTERNAL, "cannot start: %s",
		                uv_strerror(r));
	}
	x->d->backing_up = 1;
	return CMD_WAIT;
}

const struct cmd_entry cmd_backup_entry = {
        .name = "backup",
        .flags = CMD_LOCAL | CMD_ADMIN,
        .run = cmd_backup,
        .help = "a consistent copy of the store, sent after the reply",
};

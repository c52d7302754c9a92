/* What a worker runs (worker.h). */
#include <errno.h>
#include <string.h>

#include "auth.h"
#include "dispatch.h"
#include "engage.h"
#include "log.h"
#include "outage.h"
#include "pause.h"
#include "smmd.h"
#include "store.h"
#include "worker.h"

/* What another node wrote, as the view read it in: the heap and the
 * pauses follow. */
static void on_changed(void *arg, const char *table, const char *key)
{
	struct smmd *d = arg;

	if (d->stopping)
		return;
	if (strcmp(table, "deliveries") == 0 && key != NULL) {
		const char *slash = strchr(key, '/');

		dispatch_follow(d, key);
		if (slash)
			engage_followed(d, slash + 1);
	} else if (strcmp(table, "pauses") == 0 && pauses_reread(d) < 0) {
		/* A pause it cannot read may be one that must hold. */
		log_error("pause: cannot read the pauses the working node "
		          "changed: starting afresh");
		outage_begin(d);
	}
}

int worker_start(struct smmd *d, const char **doing)
{
	int r;

	*doing = "loading the pauses";
	if ((r = pauses_start(d)) < 0)
		return r;
	*doing = "loading the schedule";
	if ((r = dispatch_load(d)) < 0)
		return r;
	*doing = "reading the channels' credentials";
	if ((d->auth = auth_new()) == NULL)
		return -ENOMEM;
	if ((r = auth_start(d)) < 0)
		return r;
	worker_follow(d);
	return 0;
}

void worker_follow(struct smmd *d)
{
	store_watch(d->store, on_changed, d);
}

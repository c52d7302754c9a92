#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#include "peergroup.h"

/* More groups than this for one user is refused, not read without end. */
#define PEERGROUP_MAX 65536

int peergroup_has(uid_t uid, gid_t primary, gid_t gid)
{
	struct passwd *pw;
	gid_t *groups = NULL;
	int n = 64, found = 0;

	if (primary == gid)
		return 1;
	if ((pw = getpwuid(uid)) == NULL)
		return 0;
	/* getgrouplist says how many there are when n is too small. */
	for (;;) {
		int want = n;
		gid_t *grown = realloc(groups, (size_t)n * sizeof(*groups));

		if (grown == NULL)
			break;
		groups = grown;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0) {
			for (int i = 0; i < n && !found; i++)
				found = groups[i] == gid;
			break;
		}
		if (n <= want)
			n = want * 2;
		if (n > PEERGROUP_MAX)
			break;
	}
	free(groups);
	return found;
}

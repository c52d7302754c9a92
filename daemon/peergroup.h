/*
 * Whether a socket peer belongs to a group: by the gid its credentials
 * carry, or as a member in the system's group database (supplementary
 * groups of the peer uid's user), so a member need not have the group
 * active in the process that connects.
 */
#ifndef SMMD_PEERGROUP_H
#define SMMD_PEERGROUP_H

#include <sys/types.h>

/* 1 if uid (whose process runs with primary gid) is in group gid, else 0. */
int peergroup_has(uid_t uid, gid_t primary, gid_t gid);

#endif

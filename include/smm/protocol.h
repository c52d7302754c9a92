/*
 * What smmd and smmctl share on the wire: the control protocol.
 *
 * Unix stream socket, newline-delimited JSON, one request per line:
 *   {"id":1,"cmd":"add","args":{...}}
 * answered by exactly one line:
 *   {"id":1,"ok":true,"result":{...}}
 *   {"id":1,"ok":false,"error":{"code":"invalid_argument","message":"..."}}
 * Times on the wire are RFC 3339 UTC strings with milliseconds
 * ("2026-11-22T10:00:00.000Z").
 *
 * One command streams: {"id":7,"cmd":"log","args":{"follow":true,
 * "channel":"demo"}} ("channel" optional) is answered as usual, with the
 * recent delivery events (the last 1,000 at most, oldest first):
 *   {"id":7,"ok":true,"result":{"events":[{...}, ...]}}
 * Without "follow" that is all. With it, the connection then carries one
 * line per new event, in order, each once, until the client disconnects:
 *   {"id":7,"event":{"seq":42,"time":"...","type":"published",
 *    "id":"launch/demo","post":"launch","channel":"demo",
 *    "from":"publishing","state":"published","attempt":1,
 *    "http_status":200,"latency_ms":12.5,"outcome":"published"}}
 * "type" is queued, started, published, retry, failed, unknown, missed,
 * cancelled, held, released, skipped, approved, unapproved or shifted
 * (more may come: ignore what you don't know); "seq" counts
 * every event since smmd started, so a gap means a missed event; "from"
 * is null for a new delivery; "next", "attempt", "http_status",
 * "latency_ms", "outcome" and "reason" appear where they apply. A client
 * that stops reading is dropped; if it reads again in time it gets one
 * last line before the connection closes:
 *   {"id":7,"end":{"reason":"too_slow","missed":120,"message":"..."}}
 * These lines are new messages beside the replies, not a changed reply.
 */
#ifndef SMM_PROTOCOL_H
#define SMM_PROTOCOL_H

/* Bump SMM_PROTOCOL_VERSION when a message changes incompatibly. */
#define SMM_PROTOCOL_VERSION 1

#define SMM_DEFAULT_SOCKET "/run/smmd/smmd.sock"
#define SMM_SOCKET_ENV     "SMMD_SOCKET"

/* Longest request line the daemon accepts, newline included. */
#define SMM_MAX_LINE (64 * 1024)

/* Error codes carried in error.code. */
#define SMM_ERR_INVALID_REQUEST  "invalid_request" /* not JSON / bad shape */
#define SMM_ERR_LINE_TOO_LONG    "line_too_long"   /* over SMM_MAX_LINE */
#define SMM_ERR_UNKNOWN_COMMAND  "unknown_command"
#define SMM_ERR_INVALID_ARGUMENT "invalid_argument"
#define SMM_ERR_UNKNOWN_CHANNEL  "unknown_channel"
#define SMM_ERR_NOT_FOUND        "not_found"
#define SMM_ERR_CONFLICT         "conflict" /* wrong state for that */
#define SMM_ERR_EXISTS           "exists"   /* id already taken */
#define SMM_ERR_TOO_LATE         "too_late" /* due time long past */
#define SMM_ERR_PERMISSION       "permission_denied"
#define SMM_ERR_INCOMPATIBLE     "incompatible"
#define SMM_ERR_SHUTTING_DOWN    "shutting_down"
#define SMM_ERR_INTERNAL         "internal"
/* The store cannot be written (disk full, read-only): try again later. */
#define SMM_ERR_STORE_UNAVAILABLE "store_unavailable"
/* This node is a standby: another works on the shared store; ask it. */
#define SMM_ERR_STANDBY "standby"
/* Relayed by a standby, and not known to be done or not: look first. */
#define SMM_ERR_OUTCOME_UNKNOWN "outcome_unknown"
/* The network refused an authorization (smmctl auth), or did not answer. */
#define SMM_ERR_AUTH "auth_failed"

/*
 * The delivery states, in lifecycle order: the one list that the store,
 * the commands, smmctl and shell completion use (lib/states.h turns a
 * name into a value and back). X(ENUM, "wire name", "what it means").
 * The wire names are stored on disk too: never rename one; add new
 * states at the end.
 */
#define SMM_STATES(X)                                                       \
	X(SCHEDULED, "scheduled", "waiting for its time")                   \
	X(PUBLISHING, "publishing", "a request is under way")               \
	X(RETRY_WAIT, "retry_wait", "failed, waiting to try again")         \
	X(PUBLISHED, "published", "the network accepted it")                \
	X(FAILED, "failed", "gave up: permanent error or no attempts left") \
	X(CANCELLED, "cancelled", "withdrawn before it left")               \
	X(UNKNOWN, "unknown",                                               \
	  "in flight when smmd stopped, endpoint not idempotent")           \
	X(HELD, "held", "due while paused, or while awaiting approval")     \
	X(SKIPPED, "skipped", "held too long: not sent")                    \
	X(MISSED, "missed", "due while smmd was down, past catch-up")       \
	X(DRAFT, "draft", "waiting for an approval (require_approval)")

/* A post due further in the past than this is refused by "add". */
#define SMM_ADD_MAX_PAST_MS (60 * 1000)

#endif

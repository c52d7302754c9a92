/*
 * What the libFuzzer harnesses share: a scratch folder, the input as a
 * file or a C string, and a small smmd.yaml whose channels the calendar,
 * the control commands and the publishers are checked against.
 */
#ifndef SMM_FUZZ_H
#define SMM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* libFuzzer's entry points, declared here for -Wmissing-prototypes. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private folder under $TMPDIR, made once and removed at exit. */
const char *fuzz_dir(void);
/* fuzz_dir()/name; a static buffer, overwritten by the next call. */
const char *fuzz_path(const char *name);
/* Write len bytes to fuzz_dir()/name (mode 0600); exits on failure. */
const char *fuzz_write(const char *name, const void *data, size_t len);
/* data as a NUL-terminated string (cut at its first NUL); malloc'd. */
char *fuzz_cstr(const uint8_t *data, size_t size);
/*
 * Append s to buf as a YAML double-quoted scalar, escaping what YAML
 * would not take as it is, so any input can be one value of a document.
 * Returns the new length, or (size_t)-1 if cap is too small.
 */
size_t fuzz_yaml_quote(char *buf, size_t len, size_t cap, const char *s,
                       size_t n);
/*
 * The shared configuration: channels demo and shop (webhooks), shop-x
 * (max_length 20) and one of each other publisher (slack, discord,
 * telegram, mastodon, template, linkedin, vk, facebook, instagram,
 * bluesky, x, threads), every secret in a file of fuzz_dir().
 * Loaded once; exits if it is refused.
 */
const struct config *fuzz_config(void);
/* Where that smmd.yaml is. */
const char *fuzz_config_path(void);

#endif

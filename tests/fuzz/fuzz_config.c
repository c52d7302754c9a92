/*
 * smmd.yaml (daemon/config.c): the whole of config_load, the publishers'
 * configure() and check() included, on any file an admin could write.
 */
#include <stdlib.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The secrets its seeds name by path: real files to read. */
	fuzz_config();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {0};
	struct config *cfg = NULL;
	const char *path = fuzz_write("input.yaml", data, size);

	if (config_load(path, &cfg, &errs) == 0) {
		free(config_channel_names(cfg));
		config_unref(cfg);
	}
	config_errors_clear(&errs);
	return 0;
}

/* tenantgate: the HTTP/2 edge of a multi-tenant ML platform. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "generation.h"
#include "memory_tuning.h"
#include "runtime.h"
#include "util/log.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tenantgate --config FILE      serve with the configuration in FILE\n"
            "       tenantgate --check-config FILE validate FILE (and the files it names), print a summary\n"
            "       tenantgate --version\n");
}

/* Everything --check-config can prove without binding ports: the YAML, routes, upstream and listener TLS
 * files (the same generation a reload builds). */
static int check_config(gw_config_t *config)
{
    char err[1024];
    gw_generation_t *generation = gw_generation_new(config, 1, err, sizeof(err));
    if (generation == NULL) {
        fprintf(stderr, "tenantgate: %s\n", err);
        return 1;
    }
    gw_generation_release(generation);
    gw_config_print_summary(config, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                            {"check-config", required_argument, NULL, 't'},
                                            {"version", no_argument, NULL, 'v'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    gw_memory_tune_process();
    const char *path = NULL;
    int check_only = 0, opt;
    while ((opt = getopt_long(argc, argv, "c:t:vh", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            path = optarg;
            check_only = 1;
            break;
        case 'v':
            printf("tenantgate %s\n", TG_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (path == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }

    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = gw_config_load(path, err);
    if (config == NULL) {
        fprintf(stderr, "tenantgate: %s\n", err);
        return 1;
    }
    if (check_only) {
        int status = check_config(config);
        gw_config_release(config);
        return status;
    }

    tg_log_level_t level = TG_LOG_INFO;
    if (config->settings.log_level != NULL)
        tg_log_parse_level(config->settings.log_level, &level);
    tg_log_set_level(level);

    gw_runtime_t *runtime = gw_runtime_new(config, err, sizeof(err));
    gw_config_release(config);
    if (runtime == NULL) {
        fprintf(stderr, "tenantgate: %s\n", err);
        return 1;
    }
    int status = gw_runtime_run(runtime);
    gw_runtime_free(runtime);
    return status;
}

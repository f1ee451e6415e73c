/* Loading or creating the server secret (secret.h). */
#include "auth/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool from_hex(const char *hex, size_t hexlen, unsigned char out[SERVER_SECRET_LEN])
{
    size_t n = 0;
    return sodium_hex2bin(out, SERVER_SECRET_LEN, hex, hexlen, " \n", &n, NULL) == 0 &&
           n == SERVER_SECRET_LEN;
}

bool server_secret_load(const char *env_value, const char *data_dir,
                        unsigned char out[SERVER_SECRET_LEN], char *why, size_t whylen)
{
    if (env_value && *env_value) {
        if (from_hex(env_value, strlen(env_value), out))
            return true;
        snprintf(why, whylen, "LATCHKEY_SECRET must be 64 hex characters");
        return false;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/secret.key", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char hex[2 * SERVER_SECRET_LEN + 2];
        ssize_t n = read(fd, hex, sizeof hex);
        close(fd);
        if (n >= 2 * SERVER_SECRET_LEN && from_hex(hex, (size_t)n, out))
            return true;
        snprintf(why, whylen, "%s is not 64 hex characters", path);
        return false;
    }
    if (errno != ENOENT) {
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    randombytes_buf(out, SERVER_SECRET_LEN);
    char hex[2 * SERVER_SECRET_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, out, SERVER_SECRET_LEN);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) /* another process made it first: use it */
        return server_secret_load(NULL, data_dir, out, why, whylen);
    if (fd < 0) {
        snprintf(why, whylen, "cannot create %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = write(fd, hex, 2 * SERVER_SECRET_LEN) == 2 * SERVER_SECRET_LEN &&
              write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    sodium_memzero(hex, sizeof hex);
    if (!ok) {
        unlink(path);
        snprintf(why, whylen, "cannot write %s", path);
    }
    return ok;
}

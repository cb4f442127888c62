/*
 * tmpfile.c - the temporary file a complete file is renamed from (`dump`,
 * `watch`'s dumps, `report`): see core.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

int core_tmpfile(const char *path, unsigned mode, char **tmp)
{
	/* mkostemp's template: its last six characters are replaced */
	if (asprintf(tmp, "%s.tmp.XXXXXX", path) < 0) {
		*tmp = NULL;
		errno = ENOMEM;
		return -1;
	}
	int fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(*tmp);
		*tmp = NULL;
		errno = e;
		return -1;
	}
	mode_t um = umask(0);
	umask(um);
	(void)fchmod(fd, (mode_t)mode & ~um);   /* mkostemp made it 0600 */
	return fd;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads a whole file (at most max_size bytes, else -EFBIG). The buffer is NUL-terminated. */
int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size);
/* The same from an open descriptor, read from where it stands to its end. */
int read_full_fd(int fd, size_t max_size, char **ret_data, size_t *ret_size);

/* Writes path atomically: a temporary file of an unpredictable name created exclusively in the
 * same directory, fsync, rename over path, fsync of the directory. A power cut leaves either the
 * old or the new content, never a mix. Refuses (-EPERM) a directory that dir_trust_check()
 * refuses (dir-trust.h). */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
/* The same without either fsync: a writer killed at any point still leaves the old content or the
 * new, but after a power cut the file may hold neither (an empty file, on some file systems).
 * For what the next write replaces anyway (the metrics written during a run). */
int write_file_atomic_nosync(const char *path, const void *data, size_t size, mode_t mode);

/* Writes text to path atomically (write_file_atomic(), mode) unless the file holds exactly that
 * text already; the directory is made first (mkdir_p(), dir_mode). Returns 1 when it wrote, 0 when
 * the file was current. What the file held is wiped before it is freed: it may be a secret. */
int write_file_if_changed(const char *path, const char *text, mode_t dir_mode, mode_t mode);

/* Refuses (-EPERM) a file that group or others may read or write, or (-EPERM) that is not owned by
 * root or the caller. On refusal ret_mode holds the mode found, for the error message. */
int check_file_private(const char *path, mode_t *ret_mode);

/* mkdir -p with mode for each component created. */
int mkdir_p(const char *path, mode_t mode);

/* Joins a directory and a file name into a new string, or NULL on OOM. */
char *path_join(const char *dir, const char *name);

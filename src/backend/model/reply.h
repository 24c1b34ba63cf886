/* reply.h - the atom's file out of a language model's reply text.
 *
 * Models answer in Markdown: prose around fenced blocks, a path header before each block
 * when they write several files, sometimes only the code. reply_extract() finds the block
 * that is the atom's target and returns its text; the accepted shapes and the choices
 * made for ambiguous replies are documented in docs/backends.md ("Replies").
 * Nothing is ever written under a path taken from the reply: the caller writes the text
 * to the atom's own target; files the reply names for other or unsafe paths are refused
 * and listed in ignored (one message each) for the report.
 */
#pragma once

#include <stddef.h>

/* Largest reply accepted (bytes, after the model's JSON is decoded). */
#define REPLY_MAX_SIZE (4u * 1024u * 1024u)
/* Most code blocks in one reply; most messages in ignored (the last one counts the rest). */
#define REPLY_MAX_BLOCKS 1024u
#define REPLY_MAX_IGNORED 32u

struct reply_result {
        char *text;        /* the target file's text (malloc'd) */
        char **ignored;    /* malloc'd messages, one per file refused (not the target, unsafe path) */
        size_t n_ignored;
};

/* Extract the atom's file from a model's reply text. 0, or -ENODATA (no code in the
 * reply), -EPERM (only files for other/unsafe paths), -EINVAL; *ret_error malloc'd.
 * Also -E2BIG (reply over REPLY_MAX_SIZE or REPLY_MAX_BLOCKS) and -ENOMEM (then
 * *ret_error may be NULL). -EINVAL: an unsafe target, or a chosen text containing a NUL
 * byte. On success the text ends with exactly one newline and ret_error is untouched;
 * on failure ret is untouched. */
int reply_extract(const char *reply, size_t len, const char *target,
                  struct reply_result *ret, char **ret_error);
void reply_result_clear(struct reply_result *r);

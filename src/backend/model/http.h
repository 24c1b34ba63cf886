/* http.h - the one wrapper around libcurl: a JSON POST with timeouts and bounded reply.
 *
 * http_global_init() runs once in the parent before the first fork (curl_global_init is
 * not fork- or thread-safe). http_post() sends body to url with the given extra headers
 * (each "Name: value"; they may hold a key, so they are never logged or copied into an
 * error) and fills *resp: the HTTP status, the body (at most max_body bytes) and the
 * response headers named in the capture list of struct http_response. It returns 0 when
 * an HTTP reply arrived (whatever its status), -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET,
 * -EHOSTUNREACH, -E2BIG (reply too large) or -EIO for other transfer failures, with
 * *ret_error set to a message (malloc'd) that names the URL's host but no header.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "shared/strbuf.h"

#define HTTP_MAX_HEADERS 16

struct http_request {
        const char *url;
        const char *const *headers; /* NULL-terminated */
        const char *body;
        size_t body_len;
        unsigned connect_timeout; /* seconds */
        unsigned timeout;         /* seconds, whole transfer */
        size_t max_body;
};

struct http_response {
        long status;
        struct strbuf body;
        /* the reply's headers whose names start with a capture prefix, lowercased names */
        char *header_names[HTTP_MAX_HEADERS];
        char *header_values[HTTP_MAX_HEADERS];
        size_t n_headers;
};

int http_global_init(void);
void http_global_cleanup(void);
void http_response_clear(struct http_response *r);
int http_post(const struct http_request *req, struct http_response *resp, char **ret_error);
/* The value of a captured header (name lowercase), or NULL. */
const char *http_response_header(const struct http_response *r, const char *name);
/* Keeps a header when its lowercased name is one the fault handling reads. */
bool http_header_wanted(const char *lower_name);

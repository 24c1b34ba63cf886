/* http.c - libcurl behind one function; see http.h.
 *
 * Only the headers that fault handling reads are kept (retry-after, retry-after-ms, the
 * rate-limit reset headers, x-request-id/request-id for messages), at most
 * HTTP_MAX_HEADERS of them, each at most 256 bytes. Errors never include a request header.
 */
#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "shared/macro.h"

int http_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_cleanup(void) {
        curl_global_cleanup();
}

void http_response_clear(struct http_response *r) {
        strbuf_free(&r->body);
        for (size_t i = 0; i < r->n_headers; i++) {
                free(r->header_names[i]);
                free(r->header_values[i]);
        }
        r->n_headers = 0;
        r->status = 0;
}

bool http_header_wanted(const char *n) {
        static const char *const prefixes[] = { "retry-after", "anthropic-ratelimit-", "x-ratelimit-",
                                                "request-id", "x-request-id" };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strncmp(n, prefixes[i], strlen(prefixes[i])) == 0)
                        return true;
        return false;
}

const char *http_response_header(const struct http_response *r, const char *name) {
        for (size_t i = 0; i < r->n_headers; i++)
                if (streq(r->header_names[i], name))
                        return r->header_values[i];
        return NULL;
}

struct sink {
        struct http_response *resp;
        int error; /* first failure while receiving */
};

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        struct sink *s = userdata;
        int r = strbuf_add(&s->resp->body, data, size * n);
        if (r < 0) {
                s->error = r;
                return 0; /* aborts the transfer */
        }
        return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata) {
        struct sink *s = userdata;
        struct http_response *resp = s->resp;
        size_t len = size * n;
        const char *colon = memchr(data, ':', len);

        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* a new response (after a 100 Continue or a redirect): forget the last one's */
                for (size_t i = 0; i < resp->n_headers; i++) {
                        free(resp->header_names[i]);
                        free(resp->header_values[i]);
                }
                resp->n_headers = 0;
                return len;
        }
        if (!colon || len > 512 || resp->n_headers >= HTTP_MAX_HEADERS)
                return len;
        size_t nlen = (size_t) (colon - data);
        char name[128];
        if (nlen == 0 || nlen >= sizeof(name))
                return len;
        for (size_t i = 0; i < nlen; i++)
                name[i] = (char) tolower((unsigned char) data[i]);
        name[nlen] = '\0';
        if (!http_header_wanted(name))
                return len;
        const char *v = colon + 1, *end = data + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        char *kn = strdup(name), *kv = strndup(v, (size_t) (end - v));
        if (!kn || !kv) {
                free(kn);
                free(kv);
                s->error = -ENOMEM;
                return 0;
        }
        resp->header_names[resp->n_headers] = kn;
        resp->header_values[resp->n_headers++] = kv;
        return len;
}

static int curl_errno(CURLcode c) {
        switch (c) {
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE: return -ECONNRESET;
        case CURLE_OUT_OF_MEMORY: return -ENOMEM;
        default: return -EIO;
        }
}

int http_post(const struct http_request *req, struct http_response *resp, char **ret_error) {
        struct curl_slist *list = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        struct sink sink = { .resp = resp };
        CURLcode c = CURLE_OK;
        int r = 0;

        *resp = (struct http_response) { .status = 0 };
        strbuf_init(&resp->body, req->max_body);
        CURL *h = curl_easy_init();
        if (!h)
                return -ENOMEM;
        for (const char *const *hd = req->headers; hd && *hd; hd++) {
                struct curl_slist *l = curl_slist_append(list, *hd);
                if (!l) {
                        r = -ENOMEM;
                        goto out;
                }
                list = l;
        }
#define SET(opt, val) if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val)
        SET(CURLOPT_URL, req->url);
        SET(CURLOPT_HTTPHEADER, list);
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDS, req->body);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
        SET(CURLOPT_CONNECTTIMEOUT, (long) req->connect_timeout);
        SET(CURLOPT_TIMEOUT, (long) req->timeout);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_WRITEFUNCTION, on_body);
        SET(CURLOPT_WRITEDATA, &sink);
        SET(CURLOPT_HEADERFUNCTION, on_header);
        SET(CURLOPT_HEADERDATA, &sink);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_ACCEPT_ENCODING, "");
#undef SET
        if (c != CURLE_OK) {
                r = -EINVAL;
                if (asprintf(ret_error, "failed to set up the request: %s", curl_easy_strerror(c)) < 0)
                        *ret_error = NULL;
                goto out;
        }
        c = curl_easy_perform(h);
        if (c != CURLE_OK) {
                r = sink.error ? sink.error : curl_errno(c);
                if (r == -E2BIG) {
                        if (asprintf(ret_error, "the reply is larger than %zu bytes", req->max_body) < 0)
                                *ret_error = NULL;
                } else if (asprintf(ret_error, "request failed: %s", *errbuf ? errbuf : curl_easy_strerror(c)) < 0)
                        *ret_error = NULL;
                goto out;
        }
        (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
out:
        curl_slist_free_all(list);
        curl_easy_cleanup(h);
        if (r < 0)
                http_response_clear(resp);
        return r;
}

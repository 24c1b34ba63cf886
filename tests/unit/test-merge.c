/* test-merge.c - combining fragments of shared targets: imports hoisted, merged and
 * deduplicated, docstring and __future__ first, nothing lost; results checked with our
 * analysis and with CPython. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "analysis/analyze.h"
#include "check-main.h"
#include "analysis/merge.h"
#include "shared/fs.h"
#include "shared/strbuf.h"

static char *merge(int (*fn)(const char *const *, const size_t *, size_t, struct strbuf *),
                   const char *const *frags, size_t n) {
        size_t lens[16];
        ck_assert_uint_le(n, 16);
        for (size_t i = 0; i < n; i++)
                lens[i] = strlen(frags[i]);
        struct strbuf out = STRBUF_INIT;
        ck_assert_int_eq(fn(frags, lens, n, &out), 0);
        return strbuf_detach(&out, NULL);
}

static size_t syntax_errors(const char *src) {
        struct file_metrics m;
        ck_assert_int_eq(analyze_source("merged.py", src, strlen(src), &m), 0);
        size_t n = m.errors.count;
        file_metrics_clear(&m);
        return n;
}

/* CPython's verdict on several sources at once (one interpreter for all). */
static void assert_cpython_compiles(char *const *srcs, size_t n) {
        char *dir = test_tmpdir();
        struct strbuf cmd = STRBUF_INIT;
        ck_assert_int_eq(strbuf_adds(&cmd, "/usr/bin/python3 -c 'import sys\n"
                                           "for p in sys.argv[1:]:\n"
                                           "    compile(open(p, \"rb\").read(), p, \"exec\")' "), 0);
        for (size_t i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "m%zu.py", i);
                char *p = path_join(dir, name);
                ck_assert_int_eq(write_file_atomic(p, srcs[i], strlen(srcs[i]), 0644), 0);
                ck_assert_int_eq(strbuf_addf(&cmd, " '%s'", p), 0); /* test_tmpdir() names are plain */
                free(p);
        }
        FILE *f = popen(cmd.buf, "r");
        ck_assert_ptr_nonnull(f);
        char buf[256];
        while (fread(buf, 1, sizeof(buf), f) > 0)
                ;
        int st = pclose(f);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "CPython refuses a merged file");
        ck_assert_int_eq(rm_rf(dir), 0);
        free(dir);
        strbuf_free(&cmd);
}

static const char *const route_get =
        "\"\"\"Routes for users.\"\"\"\n"
        "from typing import List\n"
        "\n"
        "from fastapi import APIRouter, Depends\n"
        "from sqlalchemy.orm import Session\n"
        "\n"
        "from src.database import get_db\n"
        "from src.services import user as service\n"
        "\n"
        "router = APIRouter(prefix=\"/users\")\n"
        "\n"
        "\n"
        "@router.get(\"\")\n"
        "def list_users(db: Session = Depends(get_db)) -> List[dict]:\n"
        "    \"\"\"List users.\"\"\"\n"
        "    return service.list_users(db)\n";

static const char *const route_delete =
        "\"\"\"Delete route.\"\"\"\n"
        "from fastapi import Depends, HTTPException, status\n"
        "from sqlalchemy.orm import Session\n"
        "import logging\n"
        "from src.database import get_db\n"
        "from src.services import user as service\n"
        "\n"
        "log = logging.getLogger(__name__)\n"
        "\n"
        "\n"
        "@router.delete(\"/{user_id}\", status_code=status.HTTP_204_NO_CONTENT)\n"
        "def delete_user(user_id: int, db: Session = Depends(get_db)) -> None:\n"
        "    \"\"\"Delete a user.\"\"\"\n"
        "    if user_id <= 0:\n"
        "        raise HTTPException(status_code=400, detail=\"invalid id\")\n"
        "    service.delete_user(db, user_id)\n";

START_TEST(test_two_route_fragments) {
        const char *frags[] = { route_get, route_delete };
        char *out = merge(merge_python, frags, 2);
        const char *want =
                "\"\"\"Routes for users.\"\"\"\n"
                "\n"
                "import logging\n"
                "from typing import List\n"
                "\n"
                "from fastapi import APIRouter, Depends, HTTPException, status\n"
                "from sqlalchemy.orm import Session\n"
                "\n"
                "from src.database import get_db\n"
                "from src.services import user as service\n"
                "\n"
                "\n"
                "router = APIRouter(prefix=\"/users\")\n"
                "\n"
                "\n"
                "@router.get(\"\")\n"
                "def list_users(db: Session = Depends(get_db)) -> List[dict]:\n"
                "    \"\"\"List users.\"\"\"\n"
                "    return service.list_users(db)\n"
                "\n"
                "\n"
                "log = logging.getLogger(__name__)\n"
                "\n"
                "\n"
                "@router.delete(\"/{user_id}\", status_code=status.HTTP_204_NO_CONTENT)\n"
                "def delete_user(user_id: int, db: Session = Depends(get_db)) -> None:\n"
                "    \"\"\"Delete a user.\"\"\"\n"
                "    if user_id <= 0:\n"
                "        raise HTTPException(status_code=400, detail=\"invalid id\")\n"
                "    service.delete_user(db, user_id)\n";
        ck_assert_str_eq(out, want);
        ck_assert_uint_eq(syntax_errors(out), 0);
        assert_cpython_compiles(&out, 1);
        /* merging is stable: the merged file merged again is unchanged */
        const char *again[] = { out };
        char *out2 = merge(merge_python, again, 1);
        ck_assert_str_eq(out2, out);
        free(out2);
        free(out);
}
END_TEST

START_TEST(test_docstring_and_future_first) {
        const char *frags[] = {
                "# generated by codegend\n\"\"\"First docstring.\n\nMore.\n\"\"\"\nimport os\n\nA = os.sep\n",
                "\"\"\"Second docstring, dropped.\"\"\"\nfrom __future__ import annotations\nimport os, sys\n\nB = sys.argv\n",
                "from __future__ import generator_stop\nfrom __future__ import annotations\nC: list[int] = []\n",
        };
        char *out = merge(merge_python, frags, 3);
        ck_assert_str_eq(out,
                         "# generated by codegend\n\"\"\"First docstring.\n\nMore.\n\"\"\"\n"
                         "\n"
                         "from __future__ import annotations, generator_stop\n"
                         "\n"
                         "import os\n"
                         "import sys\n"
                         "\n"
                         "\n"
                         "A = os.sep\n"
                         "\n"
                         "\n"
                         "B = sys.argv\n"
                         "\n"
                         "\n"
                         "C: list[int] = []\n");
        ck_assert_ptr_null(strstr(out, "Second docstring"));
        ck_assert_uint_eq(syntax_errors(out), 0);

        /* the docstring may come from a later fragment; nothing precedes it */
        const char *late[] = { "import os\nX = 1\n", "\"\"\"Doc.\"\"\"\nimport re\nY = 2\n" };
        char *out2 = merge(merge_python, late, 2);
        ck_assert_str_eq(out2, "\"\"\"Doc.\"\"\"\n\nimport os\nimport re\n\n\nX = 1\n\n\nY = 2\n");
        char *both[] = { out, out2 };
        assert_cpython_compiles(both, 2);
        free(out2);
        free(out);
}
END_TEST

START_TEST(test_aliases_relative_and_wildcards) {
        const char *frags[] = {
                "import numpy as np\nimport numpy\nfrom x import a as b\nfrom . import sibling\n"
                "from ..pkg.mod import thing  # noqa: F401\nfrom m import *\nP = 1\n",
                "import numpy as np\nfrom x import a, a as b\nfrom . import sibling, other\n"
                "from ..pkg.mod import (\n    thing,\n    more,  # why\n)\nfrom m import name\nQ = 2\n",
        };
        char *out = merge(merge_python, frags, 2);
        ck_assert_str_eq(out,
                         "import numpy as np\n"
                         "import numpy\n"
                         "from x import a as b, a\n"
                         "from m import *\n"
                         "from m import name\n"
                         "\n"
                         "from . import sibling, other\n"
                         "from ..pkg.mod import thing, more  # noqa: F401 # why\n"
                         "\n"
                         "\n"
                         "P = 1\n"
                         "\n"
                         "\n"
                         "Q = 2\n");
        ck_assert_uint_eq(syntax_errors(out), 0);
        free(out);
}
END_TEST

START_TEST(test_nested_imports_stay) {
        const char *frags[] = {
                "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from src.models.user import User\n"
                "\ntry:\n    import ujson as json\nexcept ImportError:\n    import json\n",
                "def load(s: str) -> dict:\n    import json\n    return json.loads(s)\nimport re; R = re.compile('x')\n",
        };
        char *out = merge(merge_python, frags, 2);
        ck_assert_str_eq(out,
                         "import re\n"
                         "from typing import TYPE_CHECKING\n"
                         "\n"
                         "\n"
                         "if TYPE_CHECKING:\n    from src.models.user import User\n"
                         "\ntry:\n    import ujson as json\nexcept ImportError:\n    import json\n"
                         "\n"
                         "\n"
                         "def load(s: str) -> dict:\n    import json\n    return json.loads(s)\nR = re.compile('x')\n");
        ck_assert_uint_eq(syntax_errors(out), 0);
        free(out);
}
END_TEST

START_TEST(test_whitespace) {
        const char *frags[] = {
                "\n\nX = 1   \nS = \"\"\"kept   \ntrailing\t\n\"\"\"  \r\n\n\n\n",
                "   \n\t\n",
                "Y = 2",
        };
        char *out = merge(merge_python, frags, 3);
        ck_assert_str_eq(out, "X = 1\nS = \"\"\"kept   \ntrailing\t\n\"\"\"\n\n\nY = 2\n");
        free(out);

        const char *empty[] = { "", "\n\n" };
        out = merge(merge_python, empty, 2);
        ck_assert_str_eq(out, "");
        free(out);
}
END_TEST

START_TEST(test_broken_fragment_keeps_text) {
        const char *broken =
                "from os import path\n"
                "from sys import (argv\n"             /* an import with an error stays as written */
                "def broken(:\n"
                "    return path.join('a', 'b'\n";
        const char *frags[] = { "import os\n\nA = os.sep\n", broken };
        char *out = merge(merge_python, frags, 2);
        /* every non-blank character of the broken fragment is still there */
        ck_assert_ptr_nonnull(strstr(out, "from sys import (argv\ndef broken(:\n    return path.join('a', 'b'\n"));
        ck_assert_ptr_nonnull(strstr(out, "from os import path\n"));
        ck_assert_uint_gt(syntax_errors(out), 0);
        free(out);
}
END_TEST

START_TEST(test_long_import_wrapped) {
        const char *frags[] = {
                "from src.api.schemas.user import UserCreate, UserRead\nA = 1\n",
                "from src.api.schemas.user import UserUpdate, UserListResponse, UserFilterParams\nB = 2\n",
        };
        char *out = merge(merge_python, frags, 2);
        ck_assert_str_eq(out,
                         "from src.api.schemas.user import (\n"
                         "    UserCreate,\n    UserRead,\n    UserUpdate,\n    UserListResponse,\n    UserFilterParams,\n"
                         ")\n\n\nA = 1\n\n\nB = 2\n");
        ck_assert_uint_eq(syntax_errors(out), 0);
        assert_cpython_compiles(&out, 1);
        free(out);
}
END_TEST

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Any two valid modules merge into a valid module: each valid corpus file with the next. */
/* Fragments the generator writes are plain UTF-8: the corpus files about decoding (a byte
 * order mark, a coding declaration, bytes that are not UTF-8) are not merge material. */
static bool plain_utf8_source(const char *s) {
        if (strncmp(s, "\xef\xbb\xbf", 3) == 0)
                return false;
        const char *nl = strchr(s, '\n');
        const char *two = nl ? strchr(nl + 1, '\n') : NULL;
        size_t head = two ? (size_t) (two - s) : strlen(s);
        for (size_t i = 0; i + 6 <= head; i++)
                if (memcmp(s + i, "coding", 6) == 0)
                        return false;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
                if (k == 0)
                        return false;
                for (size_t j = 1; j < k; j++)
                        if ((p[j] & 0xc0) != 0x80)
                                return false;
                p += k;
        }
        return true;
}

START_TEST(test_corpus_pairs_stay_valid) {
        char *dir;
        ck_assert_int_ge(asprintf(&dir, "%s/tests/data/syntax-corpus", test_srcdir()), 0);
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        char *names[128] = { 0 }, *srcs[128] = { 0 }, *merged[128] = { 0 };
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n < ELEMENTSOF(names))
                if (strncmp(de->d_name, "ok-", 3) == 0)
                        names[n++] = strdup(de->d_name);
        closedir(d);
        ck_assert_uint_ge(n, 25);
        qsort(names, n, sizeof(*names), cmp_str);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
                char *p = path_join(dir, names[i]);
                size_t len;
                ck_assert_int_eq(read_file_bounded(p, 1 << 20, &srcs[kept], &len), 0);
                free(p);
                if (plain_utf8_source(srcs[kept])) {
                        names[kept] = names[i];
                        kept++;
                } else {
                        free(names[i]);
                        free(srcs[kept]);
                        srcs[kept] = NULL;
                }
        }
        for (size_t i = kept; i < n; i++)
                names[i] = NULL;
        n = kept;
        ck_assert_uint_ge(n, 25);
        for (size_t i = 0; i < n; i++) {
                const char *pair[] = { srcs[i], srcs[(i + 1) % n] };
                merged[i] = merge(merge_python, pair, 2);
                ck_assert_msg(syntax_errors(merged[i]) == 0, "%s + %s: merged file has errors:\n%s", names[i],
                              names[(i + 1) % n], merged[i]);
        }
        assert_cpython_compiles(merged, n);
        for (size_t i = 0; i < n; i++) {
                free(names[i]);
                free(srcs[i]);
                free(merged[i]);
        }
        free(dir);
}
END_TEST

START_TEST(test_plain_and_dispatch) {
        const char *frags[] = { "FROM python:3.11\n\n", "", "RUN pip install x", "\n" };
        char *out = merge(merge_plain, frags, 4);
        ck_assert_str_eq(out, "FROM python:3.11\n\nRUN pip install x\n");
        free(out);

        size_t lens[] = { 9, 9 };
        const char *py[] = { "import a\n", "import a\n" };
        struct strbuf sb = STRBUF_INIT;
        ck_assert_int_eq(merge_fragments("src/x.py", py, lens, 2, &sb), 0);
        ck_assert_str_eq(strbuf_str(&sb), "import a\n");
        strbuf_reset(&sb);
        ck_assert_int_eq(merge_fragments("README.md", py, lens, 2, &sb), 0);
        ck_assert_str_eq(strbuf_str(&sb), "import a\n\nimport a\n");
        strbuf_free(&sb);
}
END_TEST

START_TEST(test_output_bounded) {
        const char *frags[] = { route_get, route_delete };
        size_t lens[] = { strlen(route_get), strlen(route_delete) };
        struct strbuf sb;
        strbuf_init(&sb, 100);
        ck_assert_int_eq(strbuf_adds(&sb, "keep"), 0);
        ck_assert_int_eq(merge_python(frags, lens, 2, &sb), -E2BIG);
        ck_assert_str_eq(strbuf_str(&sb), "keep");
        ck_assert_int_eq(merge_plain(frags, lens, 2, &sb), -E2BIG);
        ck_assert_str_eq(strbuf_str(&sb), "keep");
        strbuf_free(&sb);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("merge");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_two_route_fragments);
        tcase_add_test(tc, test_docstring_and_future_first);
        tcase_add_test(tc, test_aliases_relative_and_wildcards);
        tcase_add_test(tc, test_nested_imports_stay);
        tcase_add_test(tc, test_whitespace);
        tcase_add_test(tc, test_broken_fragment_keeps_text);
        tcase_add_test(tc, test_long_import_wrapped);
        tcase_add_test(tc, test_corpus_pairs_stay_valid);
        tcase_add_test(tc, test_plain_and_dispatch);
        tcase_add_test(tc, test_output_bounded);
        suite_add_tcase(s, tc);
        return s;
}
